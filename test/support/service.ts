import { type ChildProcess, execSync, spawn } from 'node:child_process';
import { dockerStage } from '../../scripts/dockerfile.mjs';

/** A gateway or sink running as its own process, the way its Docker image starts it. */
export interface Running {
  process: ChildProcess;
  /** Everything it printed on stdout and stderr so far. */
  output: string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
}

/**
 * Starts a service the way its Docker image does, with only the given environment: the build steps and CMD of
 * its Dockerfile stage (the gateway compiled, then `node dist/server.js`; the sink with `node --import tsx`).
 * `build: false` skips the build steps, for a restart of what was built already: the gateway's build empties
 * dist/ first, which a gateway starting beside it at that moment would find half written.
 */
export function runService(
  service: 'gateway' | 'sink',
  env: Record<string, string>,
  { build = true }: { build?: boolean } = {},
): Running {
  const { dir, run, cmd } = dockerStage(service);
  if (build) for (const step of run) execSync(step, { cwd: dir, stdio: 'inherit' });
  const [program, ...args] = cmd;
  const child = spawn(program === 'node' ? process.execPath : (program ?? 'node'), args, {
    cwd: dir,
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
