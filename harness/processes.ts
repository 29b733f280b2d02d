// The pipeline's processes as the tests, the chaos scenarios and the benchmarks start them: a gateway or a sink as
// its Docker image runs it (harness/service.ts reads the Dockerfile), a ClickHouse HTTP endpoint over chDB as a
// process of its own, and what /proc says about any of them.
import { type ChildProcess, spawn } from 'node:child_process';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { ChdbAccess } from '@tidemark/store';
import { freePort } from '../scripts/kafka.mjs';
import { logLines, type Running, runService } from './service.js';

export type { Running } from './service.js';
export { logLines } from './service.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Polls `ready` every 100 ms until it holds; fails when the process exits first or after `timeoutMs`. */
async function until(
  running: { exited: Promise<unknown>; output?: string },
  ready: () => Promise<boolean> | boolean,
  what: string,
  timeoutMs = 60_000,
): Promise<void> {
  let exited = false;
  void running.exited.then(() => {
    exited = true;
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await ready()) return;
    if (exited) throw new Error(`${what}: the process exited first\n${running.output?.slice(-2_000) ?? ''}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what}: not ready within ${timeoutMs} ms\n${running.output?.slice(-2_000) ?? ''}`);
}

/** Options of `startSinkProcess`. */
export interface SinkProcessOptions {
  /** The sink's environment (KAFKA_BROKERS, topic, group, TIDEMARK_CHDB_PATH or CLICKHOUSE_URL…). */
  env: Record<string, string>;
  /** Resolve only once the sink logged `sink started` (it joined its group and consumes). Default true. */
  waitStarted?: boolean;
  /** Run the Dockerfile stage's build steps first (once per process, see runService). Default true. */
  build?: boolean;
}

/**
 * A sink process on a health port of its own. Killing it and starting another with the same environment is a
 * restart on the same data: the same group, the same chDB directory or ClickHouse URL.
 */
export async function startSinkProcess({
  env,
  waitStarted = true,
  build = true,
}: SinkProcessOptions): Promise<Running> {
  const sink = runService('sink', { TIDEMARK_SINK_PORT: String(await freePort()), ...env }, { build });
  if (waitStarted) {
    await until(sink, () => logLines(sink, 'sink started').length > 0, 'the sink to join its group');
  }
  return sink;
}

/**
 * A gateway process listening on `env.TIDEMARK_PORT`, resolved once `/healthz` answers. Pass the same port
 * to a restart, so clients find it where they left it.
 */
export async function startGatewayProcess({
  env,
  build = true,
}: {
  env: Record<string, string>;
  build?: boolean;
}): Promise<Running & { url: string }> {
  const port = env.TIDEMARK_PORT;
  if (!port || port === '0') throw new Error('startGatewayProcess needs a fixed TIDEMARK_PORT');
  const gateway = runService('gateway', env, { build });
  const url = `http://127.0.0.1:${port}`;
  await until(
    gateway,
    () =>
      fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) }).then(
        (response) => response.ok,
        () => false,
      ),
    'the gateway to listen',
  );
  return Object.assign(gateway, { url });
}

/** scripts/clickhouse-http.ts as a process of its own: one chDB directory served over ClickHouse's HTTP API. */
export interface ClickHouseProcess {
  url: string;
  port: number;
  dataDir: string;
  process: ChildProcess;
  exited: Promise<number | null>;
  output: string;
}

/** A TypeScript script of this repository run with tsx, once it printed `listening <url>`. */
export interface ListeningScript {
  url: string;
  process: ChildProcess;
  exited: Promise<number | null>;
  /** Everything it printed on stdout and stderr so far. */
  output: string;
}

/**
 * Runs `script` (a path from the repository's root) with tsx and `args`, with `env` added to a bare environment,
 * and resolves with the URL once it printed `listening <url>`; fails when it exits first or takes over a minute.
 */
export async function startListeningScript(
  script: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<ListeningScript> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  const running: ListeningScript = {
    url: '',
    process: child,
    output: '',
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
  };
  const collect = (chunk: Buffer) => {
    running.output += chunk;
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const listening = /^listening (http:\/\/\S+)$/m;
  await until(running, () => listening.test(running.output), `${script} to listen`);
  running.url = listening.exec(running.output)?.[1] ?? '';
  return running;
}

/**
 * Starts the endpoint over `dataDir` on `port` (a fixed one, so a restart is found at the same URL; 0 picks a free
 * one), with the grants of `access` (scripts/clickhouse-http.ts --access) and `env` added to a bare environment.
 */
export async function startClickHouseProcess(
  dataDir: string,
  port = 0,
  { access = 'writer', env = {} }: { access?: ChdbAccess; env?: Record<string, string> } = {},
): Promise<ClickHouseProcess> {
  const server = await startListeningScript(
    'scripts/clickhouse-http.ts',
    ['--data', dataDir, '--port', String(port), '--access', access],
    env,
  );
  return Object.assign(server, { dataDir, port: Number(new URL(server.url).port) });
}

/** Sends SIGTERM and waits for the exit; SIGKILL after `graceMs`. Safe on a process that already ended. */
export async function stopProcess(
  running: { process: ChildProcess; exited: Promise<unknown> },
  graceMs = 30_000,
): Promise<void> {
  const child = running.process;
  if (child.exitCode !== null || child.signalCode !== null) return;
  // A frozen process cannot act on SIGTERM.
  child.kill('SIGCONT');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await running.exited;
  clearTimeout(timer);
}

/** SIGKILL, and wait until the process is gone. */
export async function killProcess(running: { process: ChildProcess; exited: Promise<unknown> }) {
  const child = running.process;
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await running.exited;
}

/** What /proc says about a process at one moment (Linux). */
export interface ProcessSample {
  rssMb: number;
  /** Every open file descriptor. */
  fds: number;
  /**
   * Of those, files under /proc. ClickHouse (chDB, in the sink) keeps three per thread of its pools open
   * (`/proc/<pid>/task/<tid>/stat`, `io`, `schedstat`, for per-query metrics), so they follow the thread count,
   * which grows with the highest concurrency seen so far, not with time or load served.
   */
  procFds: number;
  /** Of those, sockets: a server's follow its clients' keep-alive connections at the moment of the sample. */
  sockets: number;
  threads: number;
}

/** Resident memory, threads and open file descriptors of `pid`; undefined once it is gone. */
export async function sampleProcess(pid: number | undefined): Promise<ProcessSample | undefined> {
  if (pid === undefined) return undefined;
  try {
    const [status, fds] = await Promise.all([
      readFile(`/proc/${pid}/status`, 'utf8'),
      readdir(`/proc/${pid}/fd`),
    ]);
    const targets = await Promise.all(fds.map((fd) => readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')));
    const field = (name: string) =>
      Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? Number.NaN);
    return {
      rssMb: field('VmRSS') / 1024,
      fds: fds.length,
      procFds: targets.filter((target) => target.startsWith('/proc/')).length,
      sockets: targets.filter((target) => target.startsWith('socket:')).length,
      threads: field('Threads'),
    };
  } catch {
    return undefined;
  }
}
