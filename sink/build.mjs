// Compiles the sink into dist/ for production: `node sink/build.mjs`, then `node dist/server.js` (the Dockerfile's
// sink stage). Same reason as gateway/build.mjs: tsx's loader thread and run-time transpiling cost resident memory
// that a consumer bounded by its batch size should not carry. An idle sink on chDB, 5 s after joining its group,
// measured 297–300 MB under tsx and 275 MB compiled (most of it is libchdb itself; a sink on a ClickHouse server
// does not load it). Development and tests that import the sink still run its sources.
//
// One ESM bundle per entry point, npm packages external (chdb is a native addon and must stay a real module).
// The migrations are read from `../sql/` beside the module (src/migration-render.ts); dist/server.js is one level
// below sink/ just as src/ is, so it finds sink/sql without a copy.
import { readFile, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const { dependencies } = JSON.parse(await readFile(here('./package.json'), 'utf8'));

await rm(here('./dist'), { recursive: true, force: true });
await build({
  entryPoints: { server: here('./src/server.ts'), migrate: here('./src/migrate-cli.ts') },
  outdir: here('./dist'),
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: Object.keys(dependencies),
  sourcemap: true,
  logLevel: 'warning',
});
