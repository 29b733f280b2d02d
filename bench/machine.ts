// The facts a benchmark's figures mean nothing without: the machine, how busy it was, and the versions of what ran.
// Collected by bench/all.ts before the first benchmark (the load average again after the last one).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, release, totalmem, type } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KAFKA_VERSION } from '../scripts/kafka.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));

export interface Machine {
  /** e.g. `AMD EPYC`. */
  cpu: string;
  cores: number;
  /** Total memory, GiB. */
  ramGiB: number;
  /** e.g. `Debian GNU/Linux 12 (bookworm), Linux 6.1.0`. */
  os: string;
  /** 1, 5 and 15 minute load averages when the run started and when it ended. */
  load: { before: number[]; after?: number[] };
  versions: {
    node: string;
    /** From pnpm's user agent when run through it, else the root package.json's `packageManager`. */
    pnpm: string;
    /** scripts/kafka.mjs's KAFKA_VERSION: the broker started when KAFKA_BROKERS is unset. */
    kafka: string;
    chdb: string;
    /** The ClickHouse engine inside chDB (`SELECT version()`). */
    clickhouse: string;
    kafkajs: string;
    clickhouseClient: string;
    fastify: string;
    chromium: string;
  };
  git: { commit: string; dirty: boolean };
  /** When the run started, ISO 8601. */
  date: string;
}

export function machine(): Machine {
  const cpuList = cpus();
  return {
    cpu: cpuList[0]?.model.trim() ?? 'unknown',
    cores: cpuList.length,
    ramGiB: Number((totalmem() / 1024 ** 3).toFixed(1)),
    os: `${osName()}, ${type()} ${release()}`,
    load: { before: loadavg() },
    versions: {
      node: process.version.slice(1),
      pnpm: pnpmVersion(),
      kafka: KAFKA_VERSION,
      chdb: packageVersion('sink', 'chdb'),
      clickhouse: clickhouseVersion(),
      kafkajs: packageVersion('sink', 'kafkajs'),
      clickhouseClient: packageVersion('sink', '@clickhouse/client'),
      fastify: packageVersion('gateway', 'fastify'),
      chromium: chromiumVersion(),
    },
    git: gitState(),
    date: new Date().toISOString(),
  };
}

function osName(): string {
  try {
    const release = readFileSync('/etc/os-release', 'utf8');
    return /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(release)?.[1] ?? type();
  } catch {
    return type();
  }
}

function pnpmVersion(): string {
  // pnpm sets the user agent of the scripts it runs, e.g. `pnpm/10.34.8 npm/? node/v20.19.0 linux x64`.
  const agent = /\bpnpm\/(\S+)/.exec(process.env.npm_config_user_agent ?? '')?.[1];
  if (agent) return agent;
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    packageManager?: string;
  };
  return `${manifest.packageManager?.replace(/^pnpm@/, '') ?? 'unknown'} (packageManager)`;
}

/**
 * The installed version of a dependency of one workspace package. pnpm does not hoist, so it is resolved from the
 * package that depends on it; its package.json is found by walking up from its entry point, because some
 * packages' `exports` maps do not export `./package.json`.
 */
function packageVersion(workspace: string, name: string): string {
  try {
    const require = createRequire(join(root, workspace, 'package.json'));
    let dir = dirname(require.resolve(name));
    for (;;) {
      const file = join(dir, 'package.json');
      if (existsSync(file)) {
        const manifest = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
        if (manifest.name === name) return manifest.version ?? 'unknown';
      }
      if (dirname(dir) === dir) return 'unknown';
      dir = dirname(dir);
    }
  } catch {
    return 'not installed';
  }
}

function clickhouseVersion(): string {
  // In a child process: libchdb is a native addon that binds one data directory per process (DESIGN §7), and this
  // process should hold none while it runs the benchmarks.
  const child = spawnSync(
    process.execPath,
    ['-e', "process.stdout.write(require('chdb').query('SELECT version()', 'TSVRaw').trim())"],
    { cwd: join(root, 'sink'), encoding: 'utf8', timeout: 30_000 },
  );
  return child.status === 0 && child.stdout ? child.stdout : 'unknown';
}

function chromiumVersion(): string {
  try {
    const out = execFileSync('/usr/bin/chromium', ['--version'], {
      encoding: 'utf8',
      timeout: 10_000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return /[\d.]+/.exec(out)?.[0] ?? out.trim();
  } catch {
    return 'not found';
  }
}

function gitState(): Machine['git'] {
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    // The results the run is about to write do not make the code it measured dirty.
    const changes = git('status', '--porcelain', '--', '.', ':(exclude)bench/results');
    return { commit: git('rev-parse', 'HEAD'), dirty: changes !== '' };
  } catch {
    return { commit: 'unknown', dirty: false };
  }
}
