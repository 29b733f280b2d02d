// Compiles the gateway into dist/ for production: `node gateway/build.mjs`, then `node dist/server.js`.
//
// Why not `node --import tsx src/server.ts`: tsx's loader runs in a thread of its own with its own V8 heap, and
// TypeScript is transpiled and kept with source maps at run time. That costs ~40 MB of resident memory before
// the gateway has done anything (a script that only sleeps: 40 MB plain, 77 MB with --import tsx), and the
// gateway's goal is ≤ 200 MB under load (bench/gateway.ts). Development and tests still run the sources.
//
// The bundle and the store's migrations as every service builds them (scripts/bundleService.mjs). The store's
// writer and migrations are imported only in embedded mode (start.ts), and code splitting puts them in a chunk
// of their own, so the distributed gateway never loads them; bundled, the store's module that finds `sql/` is
// dist/chunks/…, above which dist/sql is found.
import { cp } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { bundleService } from '../scripts/bundleService.mjs';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));

await bundleService(build, here('.'), { server: here('./src/server.ts') }, { splitting: true });
// The ready queries likewise: @tidemark/queries reads its `.sql` files from `../` beside its module, which
// bundled is a chunk in dist/chunks/, so they go to dist/ itself.
const queries = here('../queries');
await cp(queries, here('./dist'), {
  recursive: true,
  filter: (path) => path === queries || path.endsWith('.sql'),
});
// The dashboard's static files (routes/dashboard.ts): found beside the module that serves them, src/ or dist/.
await cp(here('./src/dashboard'), here('./dist/dashboard'), { recursive: true });
