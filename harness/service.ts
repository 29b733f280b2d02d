import { type ChildProcess, execSync, spawn } from 'node:child_process';
import { dockerStage } from '../scripts/dockerfile.mjs';

/** A gateway or sink running as its own process, the way its Docker image starts it. */
export interface Running {
  process: ChildProcess;
  /** Everything it printed on stdout and stderr so far. */
  output: string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
}

const built = new Set<string>();

/**
 * Starts a service the way its Docker image does, with only the given environment: the build steps and CMD of
 * its Dockerfile stage (each compiled by its build.mjs, then `node dist/server.js`).
 * The build steps run once per service in this process: a build empties dist/ first, which a replica or a
 * restart started a moment before would find half written. `build: false` skips them even the first time.
 * `nodeArgs` go before the CMD's own arguments, for flags Node refuses in NODE_OPTIONS (`--cpu-prof`).
 */
export function runService(
  service: 'gateway' | 'sink',
  env: Record<string, string>,
  { build = true, nodeArgs = [] }: { build?: boolean; nodeArgs?: string[] } = {},
): Running {
  const { dir, run, cmd } = dockerStage(service);
  if (build && !built.has(service)) {
    for (const step of run) execSync(step, { cwd: dir, stdio: 'inherit' });
    built.add(service);
  }
  const [program, ...args] = cmd;
  const child = spawn(
    program === 'node' ? process.execPath : (program ?? 'node'),
    [...(program === 'node' ? nodeArgs : []), ...args],
    {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const running: Running = {
    process: child,
    output: '',
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
  };
  const collect = (chunk: Buffer) => {
    running.output += chunk;
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  return running;
}

/** The sink's JSON log lines with this `msg`, parsed. */
export function logLines(running: Running, msg: string): Record<string, unknown>[] {
  return running.output
    .split('\n')
    .filter((line) => line.includes(`"msg":${JSON.stringify(msg)}`))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
