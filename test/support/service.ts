import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');

/** A gateway or sink running as its own process, the way its Docker image starts it. */
export interface Running {
  process: ChildProcess;
  /** Everything it printed on stdout and stderr so far. */
  output: string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
}

/**
 * Starts a service as the Dockerfile's CMD does, with only the given environment: the gateway compiled
 * (`node build.mjs`, then `node dist/server.js`), the sink's `src/server.ts` with `node --import tsx`.
 */
export function runService(dir: 'gateway' | 'sink', env: Record<string, string>): Running {
  const cwd = join(root, dir);
  if (dir === 'gateway') execFileSync(process.execPath, ['build.mjs'], { cwd, stdio: 'inherit' });
  const args = dir === 'gateway' ? ['dist/server.js'] : ['--import', 'tsx', 'src/server.ts'];
  const child = spawn(process.execPath, args, {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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
