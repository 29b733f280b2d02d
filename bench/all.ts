// `pnpm bench`: every benchmark of bench/, one after the other, each in a child process of its own as a reader
// would run it, then one table of their figures with the machine they ran on, written as JSON and Markdown.
//   pnpm bench [--quick] [--only sdk-size,gateway,…] [--out FILE.json]
// --quick: the smoke arguments of each benchmark (seconds each: what CI runs so that none rots; the figures
//   measure nothing). Without it, the arguments that give meaningful numbers, about 30 minutes on 2 cores (half of
//   it read.ts: 10M events generated, then every ready query timed over them).
// --only: a subset, by file name with or without its extension.
// --out: where the JSON goes, the Markdown beside it (.md). Default bench/results/latest.json for a full run of
//   every benchmark, the source of the README's table; a temporary file for --quick or --only, so that a partial
//   or smoke run never replaces the full one.
// Each benchmark hands its figures over through the file TIDEMARK_BENCH_REPORT names (bench/report.ts). One that
// exits non-zero, hangs past its time limit or reports nothing is marked failed and the others still run; this
// script then exits 1. A slow machine fails nothing: goals are judged in the table, not by the exit code.
// Kafka: the broker in KAFKA_BROKERS, else one started here (scripts/kafka.mjs) before the first benchmark that
// needs it, shared by those that do, and stopped at the end.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startKafka } from '../scripts/kafka.mjs';
import { machine } from './machine.js';
import type { BenchReport } from './report.js';
import { type BenchRun, markdownTable, type Results, textTable, withVerdicts } from './results.js';

interface Bench {
  file: string;
  /** Arguments for meaningful numbers. */
  full: string[];
  /** The smoke arguments: every code path once, in seconds. */
  quick: string[];
  /** Whether it needs a Kafka broker (KAFKA_BROKERS). */
  kafka?: boolean;
}

// The ones without Kafka first, so that a broker started here does not idle beside Chromium and chDB runs.
const benches: Bench[] = [
  { file: 'sdk-size.mjs', full: [], quick: [] },
  { file: 'sdk-track.ts', full: ['10000'], quick: ['1000'] },
  { file: 'schema.ts', full: ['200000'], quick: ['2000'] },
  { file: 'ingest.ts', full: ['200', '50', '4'], quick: ['10', '10', '2'] },
  { file: 'read.ts', full: ['--events', '10000000'], quick: ['--events', '200000', '--runs', '2'] },
  { file: 'gateway.ts', full: ['10', '20', 'kafkajs', '2'], quick: ['2', '4'], kafka: true },
  { file: 'sink.ts', full: ['200000', '6', '3'], quick: ['2000', '2', '1'], kafka: true },
  {
    file: 'e2e.ts',
    full: ['--mode', 'both', '--rates', '1000,5000,20000', '--seconds', '20', '--max-seconds', '60'],
    quick: ['--rates', '200', '--seconds', '3', '--max-seconds', '0'],
    kafka: true,
  },
];

/** Past this a benchmark is taken for hung, stopped and marked failed. */
const TIME_LIMIT_MS = { quick: 5 * 60_000, full: 30 * 60_000 };
/** After SIGTERM, how long a benchmark has to stop its servers before SIGKILL. */
const KILL_GRACE_MS = 15_000;

const root = fileURLToPath(new URL('..', import.meta.url));
const defaultOut = join(root, 'bench', 'results', 'latest.json');
const name = (file: string) => file.replace(/\.[cm]?[jt]s$/, '');

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  console.log(
    `pnpm bench [--quick] [--only ${benches.map((b) => name(b.file)).join(',')}] [--out FILE.json]`,
  );
  process.exit(0);
}
const only = flags.only?.split(',').map((entry) => name(entry.trim()));
const unknown = only?.filter((entry) => !benches.some((b) => name(b.file) === entry)) ?? [];
if (unknown.length > 0)
  throw new Error(`unknown benchmark ${unknown.join(', ')}; known: ${benches.map((b) => b.file).join(', ')}`);
const selected = only ? benches.filter((b) => only.includes(name(b.file))) : benches;
const partial = flags.quick || selected.length < benches.length;
const scratch = await mkdtemp(join(tmpdir(), 'tidemark-bench-all-'));
const out = resolve(flags.out ?? (partial ? join(scratch, 'results.json') : defaultOut));
if (partial && out === defaultOut)
  throw new Error(
    `${relative(root, defaultOut)} holds a full run of every benchmark: give --quick/--only another --out`,
  );

const command = [
  process.env.npm_lifecycle_event === 'bench' ? 'pnpm bench' : 'npx tsx bench/all.ts',
  ...process.argv.slice(2),
].join(' ');
const facts = machine();
const runs: BenchRun[] = [];
let broker: Awaited<ReturnType<typeof startKafka>> | undefined;
let brokers = process.env.KAFKA_BROKERS?.trim() || undefined;
let current: ChildProcess | undefined;
let interrupted = false;
/** Why the broker could not be started, if it could not: the benchmarks that need one fail with it. */
let kafkaProblem: string | undefined;

// Each benchmark runs in a process group of its own (so that a time limit stops its servers too), which also keeps
// a terminal's Ctrl-C from reaching it: passed on here, and the run ends after that benchmark has stopped.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    interrupted = true;
    if (current?.pid) killGroup(current.pid, 'SIGTERM');
  });
}

const started = performance.now();
try {
  for (const bench of selected) {
    if (interrupted) break;
    const args = flags.quick ? bench.quick : bench.full;
    if (bench.kafka && !brokers && !kafkaProblem && existsSync(join(root, 'bench', bench.file))) {
      try {
        broker = await startKafka({ port: 0, dataDir: join(scratch, 'kafka') });
        brokers = broker.brokers.join(',');
      } catch (error) {
        kafkaProblem = `no Kafka broker: ${error instanceof Error ? error.message : error}`;
      }
    }
    if (bench.kafka && kafkaProblem && existsSync(join(root, 'bench', bench.file)))
      runs.push({ bench: bench.file, args, status: 'failed', reason: kafkaProblem, seconds: 0, figures: [] });
    else runs.push(await run(bench, args));
  }
} finally {
  await broker?.stop();
}
facts.load.after = loadavg();

if (interrupted) {
  console.error('\ninterrupted: no results written');
  process.exitCode = 130;
} else {
  const results: Results = {
    command,
    quick: flags.quick,
    seconds: Math.round((performance.now() - started) / 1000),
    machine: facts,
    kafka: broker
      ? `Kafka ${facts.versions.kafka} started by bench/all.ts at ${brokers}`
      : brokers
        ? `the broker in KAFKA_BROKERS (${brokers})`
        : 'none used',
    benchmarks: runs,
  };
  const markdown = `${out.replace(/\.json$/, '')}.md`;
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(markdown, markdownTable(results));
  console.log(`\n${textTable(results)}\n\nwritten: ${out}\n         ${markdown}`);
  const failed = runs.filter((r) => r.status === 'failed');
  if (failed.length > 0) {
    console.log(`failed: ${failed.map((r) => r.bench).join(', ')}`);
    process.exitCode = 1;
  }
}
// The results of a partial run stay in the scratch directory for the reader; only Kafka's data goes.
const keep = !interrupted && out.startsWith(scratch);
await rm(keep ? join(scratch, 'kafka') : scratch, { recursive: true, force: true });

/** Runs one benchmark with its output streamed under a heading, and reads the figures it reported. */
async function run(bench: Bench, args: string[]): Promise<BenchRun> {
  const file = join('bench', bench.file);
  const base = { bench: bench.file, args, figures: [] };
  if (!existsSync(join(root, file)))
    return { ...base, status: 'missing', reason: `${file} does not exist`, seconds: 0 };

  console.log(`\n═══ ${[file, ...args].join(' ')} ═══`);
  const reportFile = join(scratch, `${name(bench.file)}.json`);
  const begun = performance.now();
  const child = spawn(
    process.execPath,
    bench.file.endsWith('.mjs') ? [file, ...args] : ['--import', 'tsx', file, ...args],
    {
      cwd: root,
      env: {
        ...process.env,
        TIDEMARK_BENCH_REPORT: reportFile,
        ...(brokers ? { KAFKA_BROKERS: brokers } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    },
  );
  current = child;
  // The last lines of its error output name what went wrong when it fails.
  let errorTail = '';
  child.stdout?.on('data', (chunk: Buffer) => process.stdout.write(chunk));
  child.stderr?.on('data', (chunk: Buffer) => {
    process.stderr.write(chunk);
    errorTail = (errorTail + chunk.toString()).slice(-4000);
  });
  const limit = flags.quick ? TIME_LIMIT_MS.quick : TIME_LIMIT_MS.full;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    if (child.pid) killGroup(child.pid, 'SIGTERM');
  }, limit);
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
    (resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => resolve({ code, signal }));
    },
  ).finally(() => clearTimeout(timer));
  current = undefined;
  const seconds = (performance.now() - begun) / 1000;

  const reported = await readReport(reportFile, bench.file);
  await rm(reportFile, { force: true });
  const figures = withVerdicts(reported.figures);
  const reason = timedOut
    ? `no end within ${limit / 60_000} min`
    : exit.code !== 0
      ? `exit ${exit.code ?? exit.signal}${lastLine(errorTail) ? `: ${lastLine(errorTail)}` : ''}`
      : (reported.problem ?? (figures.length === 0 ? 'reported no figures' : undefined));
  return reason
    ? { ...base, status: 'failed', reason, seconds, figures }
    : { ...base, status: 'ok', seconds, figures };
}

/** The figures a benchmark wrote, or what is wrong with its report. */
async function readReport(
  file: string,
  bench: string,
): Promise<{ figures: BenchReport['figures']; problem?: string }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return { figures: [], problem: 'reported no figures' };
  }
  try {
    const body = JSON.parse(text) as BenchReport;
    if (body.bench !== bench) return { figures: [], problem: `its report names ${body.bench}` };
    const malformed = body.figures.filter(
      (f) => typeof f.key !== 'string' || typeof f.label !== 'string' || typeof f.unit !== 'string',
    );
    if (malformed.length > 0) return { figures: [], problem: 'a figure without key, label or unit' };
    return { figures: body.figures };
  } catch (error) {
    return { figures: [], problem: `unreadable report: ${error instanceof Error ? error.message : error}` };
  }
}

/**
 * The line of a benchmark's error output that says what went wrong: the last `SomethingError: message` (a
 * thrown error's cause comes after it), else the last line with words in it. A stack frame or the `}` that ends
 * a printed error names nothing.
 */
function lastLine(text: string): string {
  const lines = text
    .split('\n')
    .map((line) => line.trim().replace(/^\[cause\]: /, ''))
    .filter((line) => /[A-Za-z]{3}/.test(line) && !line.startsWith('at '));
  const line = [...lines].reverse().find((l) => /^\w*Error\b.*:/.test(l)) ?? lines.at(-1) ?? '';
  return line.length > 160 ? `${line.slice(0, 157)}…` : line;
}

/** Signals a benchmark's whole process group: its own servers (the gateway, the ceiling, Chromium) too. */
function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    return; // already gone
  }
  if (signal === 'SIGTERM') setTimeout(() => killGroup(pid, 'SIGKILL'), KILL_GRACE_MS).unref();
}
