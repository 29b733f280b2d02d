import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { sdkBuildIsStale, sdkInputs, sdkOutputs } from '../scripts/sdkBuildIsStale.mjs';

// `pnpm start` builds the SDK only when sdk/dist is older than what it is built from. A copy of the SDK's layout
// with chosen modification times stands for sdk/: the check reads nothing else.
let root: string;
let sdk: string;

/** Writes `path` (relative to sdk/) with its modification time `seconds` after the epoch. */
async function file(path: string, seconds: number) {
  const full = join(sdk, path);
  await mkdir(dirname(full), { recursive: true });
  await writeFile(full, path);
  await utimes(full, seconds, seconds);
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'tidemark-sdk-stale-'));
  sdk = join(root, 'sdk');
  for (const input of sdkInputs) {
    // Folders get a file two levels down, as src/autocapture/ has.
    await file(input.includes('.') ? input : `${input}/inner/file.ts`, 1_000);
  }
  for (const output of sdkOutputs) await file(output, 2_000);
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

it('takes a build newer than every input as current', async () => {
  expect(await sdkBuildIsStale(sdk)).toBeUndefined();
});

it('builds again when a source deep in src/ changed after the oldest output', async () => {
  await file('dist/tidemark.min.js', 1_500);
  await file('src/autocapture/interactions.ts', 1_700);
  expect(await sdkBuildIsStale(sdk)).toBe(
    'src/autocapture/interactions.ts changed after dist/tidemark.min.js was built',
  );
});

it('builds again when the lockfile changed (a bundled dependency may have)', async () => {
  await file('../pnpm-lock.yaml', 2_500);
  expect(await sdkBuildIsStale(sdk)).toBe('../pnpm-lock.yaml changed after dist/index.js was built');
});

it('builds when an output is missing', async () => {
  await rm(join(sdk, 'dist/tidemark.autocapture.min.js'));
  expect(await sdkBuildIsStale(sdk)).toBe('dist/tidemark.autocapture.min.js is missing');
});
