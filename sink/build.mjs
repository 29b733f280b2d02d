// Compiles the sink into dist/ for production: `node sink/build.mjs`, then `node dist/server.js` (the Dockerfile's
// sink stage). Same reason as gateway/build.mjs: tsx's loader thread and run-time transpiling cost resident memory
// that a consumer bounded by its batch size should not carry. An idle sink on chDB, 5 s after joining its group,
// measured 297–300 MB under tsx and 275 MB compiled (most of it is libchdb itself; a sink on a ClickHouse server
// does not load it). Development and tests that import the sink still run its sources.
//
// One ESM bundle of our own code, the workspace's store included; npm packages stay external (chdb is a native
// addon and must stay a real module), which is why the store's dependencies are also the sink's. The store
// reads its migrations from `sql/` beside or above its module (store/src/migrationRender.ts): dist/sql.
import { cp, readFile, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const { dependencies } = JSON.parse(await readFile(here('./package.json'), 'utf8'));

await rm(here('./dist'), { recursive: true, force: true });
await build({
  entryPoints: { server: here('./src/server.ts'), migrate: here('../store/src/migrateCli.ts') },
  outdir: here('./dist'),
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: Object.keys(dependencies).filter((name) => !dependencies[name].startsWith('workspace:')),
  sourcemap: true,
  logLevel: 'warning',
});
await cp(here('../store/sql'), here('./dist/sql'), { recursive: true });
