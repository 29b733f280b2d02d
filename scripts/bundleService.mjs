// Compiles a service (the gateway, the sink) into its dist/ for production, the build step of its Dockerfile
// stage: `node build.mjs` in the service's folder, then `node dist/server.js`. Why compiled at all: see
// gateway/build.mjs. Plain Node ESM, like scripts/dockerfile.mjs.
//
// One ESM bundle of our own code, the workspace's store included; npm packages stay external and are resolved
// from node_modules as usual, which is why the store's own dependencies (@clickhouse/client, chdb: a native addon
// that must stay a real module) are also the service's. The store reads its migrations from `sql/` found beside
// or above its module (store/src/migrationRender.ts), so they are copied to dist/sql.
//
// Source maps are written beside the files; Node reads them only with --enable-source-maps, which has a memory
// cost of its own, so it is left to whoever debugs a stack trace.

import { cp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const STORE_SQL = fileURLToPath(new URL('../store/sql', import.meta.url));

/**
 * Empties `dir`/dist and bundles `entryPoints` into it, then copies the store's migrations to dist/sql.
 *
 * @param {typeof import('esbuild').build} build esbuild's `build`, from the service's own dependency (the
 *   workspace root has none)
 * @param {string} dir the service's folder, holding its package.json
 * @param {Record<string, string>} entryPoints output name → source file
 * @param {{ splitting?: boolean }} [options] `splitting`: code shared by the entry points and dynamic imports
 *   go to chunks of their own in dist/chunks/
 */
export async function bundleService(build, dir, entryPoints, { splitting = false } = {}) {
  const { dependencies } = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
  const outdir = join(dir, 'dist');
  // A clean directory: chunk names carry content hashes, and stale ones would pile up.
  await rm(outdir, { recursive: true, force: true });
  await build({
    entryPoints,
    outdir,
    bundle: true,
    ...(splitting ? { splitting: true, chunkNames: 'chunks/[name]-[hash]' } : {}),
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: Object.keys(dependencies).filter((name) => !dependencies[name].startsWith('workspace:')),
    sourcemap: true,
    logLevel: 'warning',
  });
  await cp(STORE_SQL, join(outdir, 'sql'), { recursive: true });
}
