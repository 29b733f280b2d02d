// Compiles the sink into dist/ for production: `node sink/build.mjs`, then `node dist/server.js` (the Dockerfile's
// sink stage). Same reason as gateway/build.mjs: tsx's loader thread and run-time transpiling cost resident memory
// that a consumer bounded by its batch size should not carry. An idle sink on chDB, 5 s after joining its group,
// measured 297–300 MB under tsx and 275 MB compiled (most of it is libchdb itself; a sink on a ClickHouse server
// does not load it). Development and tests that import the sink still run its sources.
//
// The bundle and the store's migrations as every service builds them (scripts/bundleService.mjs), with the
// store's migration CLI beside the server.
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { bundleService } from '../scripts/bundleService.mjs';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));

await bundleService(build, here('.'), {
  server: here('./src/server.ts'),
  migrate: here('../store/src/migrateCli.ts'),
});
