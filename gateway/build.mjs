// Compiles the gateway into dist/ for production: `node gateway/build.mjs`, then `node dist/server.js`.
//
// Why not `node --import tsx src/server.ts`: tsx's loader runs in a thread of its own with its own V8 heap, and
// TypeScript is transpiled and kept with source maps at run time. That costs ~40 MB of resident memory before
// the gateway has done anything (a script that only sleeps: 40 MB plain, 77 MB with --import tsx), and the
// gateway's goal is ≤ 200 MB under load (bench/gateway.ts). Development and tests still run the sources.
//
// One ESM bundle of our own code, the workspace's store included; npm packages stay external and are
// resolved from node_modules as usual, which is why the store's own dependencies (@clickhouse/client, chdb)
// are also the gateway's. The store's writer and migrations are imported only in embedded mode (start.ts), and
// code splitting puts them in a chunk of their own, so the distributed gateway never loads them. The store reads
// its migrations from `sql/` found beside or above its module (store/src/migrationRender.ts); bundled, that module is dist/chunks/…, so the
// SQL files are copied to dist/sql.
//
// Source maps are written beside the files; Node reads them only with --enable-source-maps, which has a
// memory cost of its own, so it is left to whoever debugs a stack trace.
import { cp, readFile, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const { dependencies } = JSON.parse(await readFile(here('./package.json'), 'utf8'));

// A clean directory: chunk names carry content hashes, and stale ones would pile up.
await rm(here('./dist'), { recursive: true, force: true });
await build({
  entryPoints: { server: here('./src/server.ts') },
  outdir: here('./dist'),
  bundle: true,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: Object.keys(dependencies).filter((name) => !dependencies[name].startsWith('workspace:')),
  sourcemap: true,
  logLevel: 'warning',
});
await cp(here('../store/sql'), here('./dist/sql'), { recursive: true });
// The ready queries likewise: @tidemark/queries reads its `.sql` files from `../` beside its module, which
// bundled is a chunk in dist/chunks/, so they go to dist/ itself.
const queries = here('../queries');
await cp(queries, here('./dist'), {
  recursive: true,
  filter: (path) => path === queries || path.endsWith('.sql'),
});
// The dashboard's static files (routes/dashboard.ts): found beside the module that serves them, src/ or dist/.
await cp(here('./src/dashboard'), here('./dist/dashboard'), { recursive: true });
