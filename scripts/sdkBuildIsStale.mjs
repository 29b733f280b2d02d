// Whether sdk/dist is older than what it is built from, so that `pnpm start` rebuilds the SDK only when it must.
// Run as a script: exits 0 when the build is current, 1 (saying why) when it must be built again.
import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What the SDK's build reads, relative to sdk/ (a folder stands for every file in it). */
export const sdkInputs = [
  'src',
  'snippet',
  'rollup.config.mjs',
  'package.json',
  'tsconfig.json',
  'tsconfig.build.json',
  // A dependency bundled into the script-tag files (idb-keyval, web-vitals) changes with the lockfile.
  '../pnpm-lock.yaml',
];

/** What it writes, relative to sdk/: every entry of the npm package and every script-tag file. */
export const sdkOutputs = [
  'dist/index.js',
  'dist/index.cjs',
  'dist/index.d.ts',
  'dist/react.js',
  'dist/react.cjs',
  'dist/vitals.js',
  'dist/vitals.cjs',
  'dist/tidemark.min.js',
  'dist/tidemark.vitals.min.js',
  'dist/tidemark.autocapture.min.js',
];

/** The newest modification time under `path` (a file, or a folder's files), with the file it belongs to. */
async function newest(path) {
  const info = await stat(path);
  if (!info.isDirectory()) return { path, mtimeMs: info.mtimeMs };
  let found = { path, mtimeMs: 0 };
  for (const entry of await readdir(path)) {
    const inner = await newest(join(path, entry));
    if (inner.mtimeMs > found.mtimeMs) found = inner;
  }
  return found;
}

/**
 * Why the SDK in `sdkDir` must be built again: an output is missing, or an input changed after the oldest output
 * was written. `undefined` when the build is current.
 * @param {string} sdkDir
 * @returns {Promise<string | undefined>}
 */
export async function sdkBuildIsStale(sdkDir) {
  let oldest = { path: '', mtimeMs: Number.POSITIVE_INFINITY };
  for (const output of sdkOutputs) {
    const path = join(sdkDir, output);
    const info = await stat(path).catch(() => undefined);
    if (!info) return `${output} is missing`;
    if (info.mtimeMs < oldest.mtimeMs) oldest = { path: output, mtimeMs: info.mtimeMs };
  }
  for (const input of sdkInputs) {
    const found = await newest(join(sdkDir, input)).catch(() => undefined);
    if (found && found.mtimeMs > oldest.mtimeMs) {
      return `${relative(sdkDir, found.path)} changed after ${oldest.path} was built`;
    }
  }
  return undefined;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const stale = await sdkBuildIsStale(fileURLToPath(new URL('../sdk', import.meta.url)));
  if (stale) {
    console.log(`Building the SDK: ${stale}.`);
    process.exitCode = 1;
  }
}
