// Size of the script-tag build, the one every visitor downloads: raw, gzip and brotli bytes of
// sdk/dist/tidemark.min.js. Exits with 1 when the gzip size is above the budget, so CI can fail on it.
// Run `pnpm --filter @tidemark/sdk build` first.
import { readFile } from 'node:fs/promises';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

/** Gzip bytes the script-tag build may weigh. */
const BUDGET_GZIP_BYTES = 3072;

const file = new URL('../sdk/dist/tidemark.min.js', import.meta.url);
let code;
try {
  code = await readFile(file);
} catch {
  console.error(`${file.pathname} is missing: run \`pnpm --filter @tidemark/sdk build\` first`);
  process.exitCode = 1;
}
if (code) {
  const gzip = gzipSync(code, { level: 9 }).length;
  const brotli = brotliCompressSync(code, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  console.log(`sdk/dist/tidemark.min.js  raw ${code.length} B  gzip ${gzip} B  brotli ${brotli} B`);
  console.log(`budget: ${BUDGET_GZIP_BYTES} B gzip (${BUDGET_GZIP_BYTES - gzip} B left)`);
  if (gzip > BUDGET_GZIP_BYTES) {
    console.error(`over budget by ${gzip - BUDGET_GZIP_BYTES} B gzip`);
    process.exitCode = 1;
  }
}
