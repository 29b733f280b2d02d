import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, inject, it } from 'vitest';
import type { Results } from '../bench/results.js';

// `pnpm bench --quick`, as CI runs it so that no benchmark rots unnoticed: every benchmark of bench/ runs briefly,
// must run to its end, exit 0 (the benchmarks exit 1 only when they find events lost or doubled, never on a slow
// machine), print the lines it exists for and hand its figures to the runner, which prints them in one table and
// writes them as JSON. The figures themselves are not judged here: a few seconds on a shared machine measure
// nothing.
const root = join(import.meta.dirname, '..');

/** What each benchmark must report; a benchmark that stops reporting one fails here. */
const expectedKeys: Record<string, string[]> = {
  'sdk-size.mjs': [
    'sdk.core.gzip_bytes',
    'sdk.vitals.gzip_bytes',
    'sdk.autocapture.gzip_bytes',
    'sdk.react.gzip_bytes',
  ],
  'sdk-track.ts': ['sdk.track.median_us', 'sdk.track.longest_task_ms'],
  'schema.ts': ['schema.events.compressed_mb', 'schema.events.compression_gain', 'schema.insert_rows_per_s'],
  'ingest.ts': ['ingest.embedded.events_per_s', 'ingest.embedded.latency_p99_ms'],
  'read.ts': [
    'read.overview.p50_ms',
    'read.funnel.p50_ms',
    'read.property_breakdown.p50_ms',
    'read.refresh.30d.p50_ms',
    'read.storage.events_bytes_per_event',
    'read.storage.total_bytes_per_event',
    'read.generate.seconds',
  ],
  'gateway.ts': [
    'gateway.ceiling.events_per_s',
    'gateway.ceiling.cpu_us_per_event',
    'gateway.kafkajs.events_per_s',
    'gateway.kafkajs.cpu_us_per_event',
    'gateway.kafkajs.cpu_ratio',
    'gateway.kafkajs.half_rate_p99_ms',
    'gateway.kafkajs.rss_peak_mb',
    'gateway.kafkajs.cpu_ms_per_request',
  ],
  'sink.ts': ['sink.rows_per_s', 'sink.raw_rows_per_s', 'sink.ratio'],
  'e2e.ts': ['e2e.distributed.200.freshness_p99_ms', 'e2e.embedded.200.freshness_p99_ms'],
};

/** The lines each benchmark prints for a reader, which the table does not replace. */
const expectedOutput: RegExp[] = [
  /sdk\/dist\/tidemark\.min\.js\n {2}raw \d+ B {2}gzip \d+ B/,
  /goal median ≤ 5 µs: +(met|MISSED)/,
  /goal no task over 50 ms: (met|MISSED)/,
  /2,000 events, inserted at [\d,]+ rows\/s/,
  /rows stored: 100 of 100 sent/,
  /200,0\d\d events generated in [\d.]+ s/,
  /^dashboard refresh, 30d +[\d.]+ +[\d.]+ +[\d.]+ /m,
  /storage per event: [\d.]+ B in tidemark\.events, [\d.]+ B with the rollups; 100M events would take about [\d.]+ GB/,
  /CPU per event, all threads: [\d.]+ µs \(goal ≤ 20 µs\), [\d.]+× the ceiling's [\d.]+ µs/,
  /gateway RSS peak \d+ MB/,
  /: match\n/,
  /stored: 2000 rows, 2000 distinct event_id/,
  /median ratio sink \/ raw over 1 rounds: [\d.]+/,
  /distributed at 200 events\/s for 3 s(?: \(load average [\d.]+\))?: offered 30 batches .*\n +freshness \(due → visible\): p50 [\d,]+ ms/,
  /embedded at 200 events\/s for 3 s(?: \(load average [\d.]+\))?: offered 30 batches .*\n +freshness \(due → visible\): p50 [\d,]+ ms/,
  /RSS peak: gateway \d+ MB, sink \d+ MB/,
  /stored: 600 rows, 600 distinct event ids, for 600 events acknowledged/,
];

let child: ChildProcess | undefined;
const scratch = await mkdtemp(join(tmpdir(), 'tidemark-bench-smoke-'));
afterAll(async () => {
  // A timed-out run is stopped; bench/all.ts passes the signal on to the benchmark it is running.
  if (child && child.exitCode === null) child.kill('SIGTERM');
  await rm(scratch, { recursive: true, force: true });
});

function runAll(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    child = spawn(process.execPath, ['--import', 'tsx', 'bench/all.ts', ...args], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

it('runs every benchmark briefly, prints one table of their figures and writes it as JSON and Markdown', async () => {
  const out = join(scratch, 'quick.json');
  const { code, output } = await runAll(['--quick', '--out', out], {
    KAFKA_BROKERS: inject('kafkaBrokers').join(','),
  });
  expect(code, output).toBe(0);
  for (const pattern of expectedOutput) expect(output).toMatch(pattern);

  // Every benchmark must exist and run: bench/all.ts reports a missing file as `missing` and still exits 0.
  expect(existsSync(out), `bench/all.ts wrote no ${out}; it printed:\n${output}`).toBe(true);
  const results = JSON.parse(await readFile(out, 'utf8')) as Results;
  expect(results.quick).toBe(true);
  expect(results.benchmarks.map((run) => run.bench)).toEqual(Object.keys(expectedKeys));
  for (const run of results.benchmarks) {
    expect(run.status, `${run.bench}: ${run.reason}`).toBe('ok');
    const keys = run.figures.map((figure) => figure.key);
    expect(keys, run.bench).toEqual(expect.arrayContaining(expectedKeys[run.bench] ?? []));
    expect(keys.length, run.bench).toBeGreaterThan(0);
    const prefix = run.bench.replace(/[-.].*$/, '');
    for (const figure of run.figures) {
      expect(figure.key, run.bench).toMatch(new RegExp(`^${prefix}\\.`));
      expect(typeof figure.value, figure.key).toBe('number');
      expect(output, figure.key).toContain(figure.label);
    }
  }
  expect(results.machine.versions.kafka).toMatch(/^\d+\.\d+\.\d+$/);
  expect(results.machine.git.commit).toMatch(/^[0-9a-f]{40}$/);

  // The table: the header, then a line per benchmark.
  expect(output).toMatch(/^Tidemark benchmarks, .*`.*--quick.*`/m);
  expect(output).toMatch(/^figure +value +goal +verdict +note$/m);
  for (const bench of Object.keys(expectedKeys)) expect(output).toMatch(new RegExp(`^── ${bench}`, 'm'));
  const markdownFile = join(scratch, 'quick.md');
  expect(existsSync(markdownFile), `bench/all.ts wrote no ${markdownFile}`).toBe(true);
  const markdown = await readFile(markdownFile, 'utf8');
  expect(markdown).toContain('| benchmark | figure | value | goal | | note |');
  for (const run of results.benchmarks)
    for (const figure of run.figures) expect(markdown).toContain(`| ${figure.label} |`);
}, 900_000);
