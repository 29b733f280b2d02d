import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The `tidemark` executable as `npx tidemark` runs it (the package's bin). */
export const bin = fileURLToPath(new URL('../bin/tidemark.mjs', import.meta.url));
/** The repository's root, where `npx tidemark` finds the workspace's bin. */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Waits for a child process and collects what it printed. */
function collect(child: ReturnType<typeof spawn>, input?: string): Promise<Run> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin?.end(input ?? '');
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs the CLI with `args` in a child process, `env` on top of a clean environment, `input` on stdin. */
export function runCli(args: readonly string[], env: Record<string, string>, input?: string): Promise<Run> {
  return collect(
    spawn(process.execPath, [bin, ...args], { env: { PATH: process.env.PATH ?? '', ...env } }),
    input,
  );
}

/** Runs one shell command line from the repository's root, as a reader would paste it. */
export function runShell(command: string, env: Record<string, string>): Promise<Run> {
  return collect(
    spawn('sh', ['-c', command], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    }),
  );
}
