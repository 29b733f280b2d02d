// How the Dockerfile starts a service, read from the Dockerfile itself, so that the tests and benchmarks that run
// a service "as in production" start it with the same build steps, flags and entry point, and cannot drift from it.
// Plain Node ESM, like scripts/kafka.mjs. Only the subset our Dockerfile uses is understood: a stage's WORKDIR
// (an /app path), its one-line RUN steps and its exec-form CMD.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * The stage `FROM … AS <target>` of the Dockerfile, mapped onto this checkout.
 *
 * @param {string} target
 * @returns {{ dir: string, run: string[], cmd: string[] }} `dir`: the stage's WORKDIR here; `run`: its RUN
 *   steps in order (shell commands, to run in `dir`); `cmd`: its CMD, program first.
 */
export function dockerStage(target) {
  const lines = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').split('\n');
  const from = lines.findIndex((line) => new RegExp(`^FROM\\s+\\S+\\s+AS\\s+${target}\\s*$`, 'i').test(line));
  if (from < 0) throw new Error(`Dockerfile: no stage named ${target}`);
  const end = lines.findIndex((line, i) => i > from && /^FROM\s/i.test(line));
  const stage = lines.slice(from + 1, end < 0 ? undefined : end);
  const arg = (instruction) =>
    stage
      .filter((line) => line.startsWith(`${instruction} `))
      .map((line) => line.slice(instruction.length + 1));
  const workdir = arg('WORKDIR').at(-1) ?? '/app';
  const cmd = arg('CMD').at(-1);
  if (cmd === undefined) throw new Error(`Dockerfile: stage ${target} has no CMD`);
  return {
    dir: join(ROOT, workdir.replace(/^\/app\/?/, '')),
    run: arg('RUN'),
    cmd: JSON.parse(cmd),
  };
}
