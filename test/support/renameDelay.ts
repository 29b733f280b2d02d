import { spawn } from 'node:child_process';

/** An strace attached to a process, holding each of its renames for a while. */
export type RenameDelay = {
  /** False when strace exited at once: it could not attach (no CAP_SYS_PTRACE, Yama). */
  attached: boolean;
  /** What strace printed so far: the renames it held, by path. */
  traced(): string;
  stop(): void;
};

/**
 * Makes every rename in process `pid` and its threads wait `ms` before it runs, by strace's syscall injection.
 * chDB's MergeTree puts a new part in place by renaming it from `tmp_insert_*`, so `traced()` names the moment an
 * insert reaches that rename, and a kill then lands inside the insert.
 */
export async function delayRenames(pid: number, ms: number): Promise<RenameDelay> {
  const calls = 'rename,renameat,renameat2';
  const tracer = spawn(
    'strace',
    [
      '-f',
      '-qq',
      '-p',
      String(pid),
      '-e',
      `trace=${calls}`,
      '-e',
      `inject=${calls}:delay_enter=${ms * 1000}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let traced = '';
  tracer.stderr.on('data', (chunk) => {
    traced += chunk;
  });
  const attached = await Promise.race([
    new Promise<boolean>((resolve) => tracer.once('exit', () => resolve(false))),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 1_500)),
  ]);
  return { attached, traced: () => traced, stop: () => tracer.kill('SIGTERM') };
}
