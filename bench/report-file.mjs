// The writing half of bench/report.ts, in plain JavaScript so that bench/sdk-size.mjs, which `pnpm build` runs
// with node alone (no TypeScript loader), writes its figures in the same format as the TypeScript benchmarks.
// The types are in bench/report.ts; this is the only place the file's shape is written.
import { writeFileSync } from 'node:fs';

/**
 * Writes the figures to the file TIDEMARK_BENCH_REPORT names, when it is set; otherwise does nothing.
 * @param {string} bench The benchmark file, e.g. `sdk-size.mjs`.
 * @param {import('./report.js').Figure[]} figures
 */
export function writeReport(bench, figures) {
  const file = process.env.TIDEMARK_BENCH_REPORT;
  if (!file) return;
  /** @type {import('./report.js').BenchReport} */
  const body = { bench, args: process.argv.slice(2), figures };
  writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`);
}
