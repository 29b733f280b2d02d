// The cost of replication, from one `bench/e2e.ts --brokers N` run: the distributed pipeline at the same rates on
// one broker (replication factor 1) and on an N-node cluster (RF 3, min.insync.replicas 2), side by side, with
// their ratios. CPU is read as time per event, not as a share of the cores: these two cores are shared with
// other worktrees, and an event's CPU time moves much less with their load than a maximum rate does. Written to
// bench/results/e2e-brokers.md (and .json), which scripts/resultsDocs.mjs copies into docs/benchmarks.md.
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Run } from '../e2e.js';
import { machine } from '../machine.js';
import { quantile } from './visibility.js';

/** A maximum-rate search's outcome, as bench/e2e.ts keeps it per setup. */
type MaxRate = { rate: number; run?: Run; failed?: Run; steps: number };

/** A Kafka node's JVM among the watched processes ("Kafka broker", "Kafka broker 1", …: stack.ts names them). */
export const isBroker = (name: string) => name.startsWith('Kafka broker');

/** CPU ms per 1 000 acknowledged events of each stage, over a run's send window. */
export interface CpuPerEvents {
  gateway: number;
  /** Every Kafka node together. */
  kafka: number;
  sink: number;
  clickhouse: number;
  /** The four above: what the pipeline costs, the load generator left out. */
  pipeline: number;
}

export function cpuPerThousand(run: Run): CpuPerEvents {
  const thousands = run.accepted / 1000;
  // CpuUse is percent of one core over the window: ms = % / 100 × window s × 1000.
  const msOf = (names: (name: string) => boolean) =>
    thousands > 0
      ? [...run.cpu]
          .filter(([name]) => names(name))
          .reduce((sum, [, c]) => sum + (c.all / 100) * run.windowSeconds * 1000, 0) / thousands
      : Number.NaN;
  const gateway = msOf((n) => n === 'gateway');
  const kafka = msOf(isBroker);
  const sink = msOf((n) => n === 'sink');
  const clickhouse = msOf((n) => n === 'ClickHouse');
  return { gateway, kafka, sink, clickhouse, pipeline: gateway + kafka + sink + clickhouse };
}

const num = (v: number, digits = 0) =>
  Number.isFinite(v)
    ? v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : '–';
const ms = (v: number) => (Number.isFinite(v) ? `${num(v)} ms` : 'never');
const ratio = (a: number, b: number) => (b > 0 && Number.isFinite(a) ? `${(a / b).toFixed(2)}×` : '–');

function row(run: Run): string {
  const offered = run.load.batches.length;
  const cpu = cpuPerThousand(run);
  return `| ${run.setup} | ${num(run.rate)} | ${(((offered - run.stages.non2xx) / offered) * 100).toFixed(1)} % | ${ms(
    quantile(run.answered, 0.5),
  )} / ${ms(quantile(run.answered, 0.99))} | ${ms(run.stages.deliverMs)} | ${ms(quantile(run.freshness, 0.5))} / ${ms(
    quantile(run.freshness, 0.99),
  )} | ${num(cpu.gateway)} | ${num(cpu.kafka)} | ${num(cpu.sink)} | ${num(cpu.clickhouse)} | **${num(cpu.pipeline)}** | ${num(
    run.machine.busy,
  )} % of ${run.machine.cores * 100} % | ${run.load1.toFixed(2)} | ${run.stored.distinct} / ${run.accepted} |`;
}

/** The comparison as Markdown: one row per run, then the ratios of the cluster to the single broker. */
export function brokerComparison(runs: Run[], maxRates: Map<string, MaxRate>): string {
  const single = runs.filter((r) => r.brokers === 1);
  const clustered = runs.filter((r) => r.brokers > 1);
  const lines = [
    '| pipeline | events/s | 2xx | due → 2xx p50 / p99 | mean wait for acks | freshness p50 / p99 | gateway | Kafka (all nodes) | sink | ClickHouse | pipeline | machine busy | load (1 min) | stored / acked |',
    '|---|---:|---:|---|---:|---|---:|---:|---:|---:|---:|---|---:|---|',
    ...[...single, ...clustered].map(row),
    '',
    'The CPU columns are ms of CPU time (all threads) per 1 000 acknowledged events, over the send window.',
    '',
  ];
  const clusterSetup = clustered[0]?.setup ?? 'cluster';
  for (const run of clustered) {
    const base = single.find((s) => s.rate === run.rate && s.seconds === run.seconds);
    if (!base) continue;
    const a = cpuPerThousand(run);
    const b = cpuPerThousand(base);
    lines.push(
      `- ${num(run.rate)} events/s, ${clusterSetup} / 1 broker: pipeline CPU per event **${ratio(a.pipeline, b.pipeline)}** ` +
        `(Kafka ${ratio(a.kafka, b.kafka)}, gateway ${ratio(a.gateway, b.gateway)}, sink ${ratio(a.sink, b.sink)}, ` +
        `ClickHouse ${ratio(a.clickhouse, b.clickhouse)}); wait for acks ${ratio(run.stages.deliverMs, base.stages.deliverMs)}; ` +
        `due → 2xx p99 ${ratio(quantile(run.answered, 0.99), quantile(base.answered, 0.99))}; ` +
        `freshness p99 ${ratio(quantile(run.freshness, 0.99), quantile(base.freshness, 0.99))}`,
    );
  }
  const [singleMax, clusterMax] = [...maxRates.entries()];
  if (singleMax && clusterMax) {
    const [, s] = singleMax;
    const [, c] = clusterMax;
    const why = (m: MaxRate) =>
      m.failed ? `; at ${num(m.failed.rate)} the bottleneck was: ${m.failed.bottleneck}` : '';
    lines.push(
      `- maximum sustained rate (p99 < 5 s, ≥ 99.9 % 2xx): 1 broker ${num(s.rate)} events/s${why(s)}; ` +
        `${clusterSetup} ${num(c.rate)} events/s${why(c)}; ratio **${ratio(c.rate, s.rate)}**`,
    );
  }
  return lines.join('\n');
}

function commit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/** Prints the comparison and writes it, with the machine and its load, to bench/results/e2e-brokers.{md,json}. */
export async function writeBrokerComparison(opts: {
  runs: Run[];
  maxRates: Map<string, MaxRate>;
  command: string;
  started: Date;
  loadBefore: number[];
}): Promise<void> {
  const markdown = brokerComparison(opts.runs, opts.maxRates);
  const m = machine();
  const loadAfter = loadavg();
  const head =
    `\`${opts.command}\` at ${commit()}, ${opts.started.toISOString()} → ${new Date().toISOString()}\n\n` +
    `- machine: ${m.cpu}, ${m.cores} cores, ${m.ramGiB} GiB RAM; Kafka ${m.versions.kafka}, chDB ${m.versions.chdb}, ` +
    `kafkajs ${m.versions.kafkajs}, Node ${m.versions.node}\n` +
    `- load average (1, 5, 15 min): ${opts.loadBefore.map((v) => v.toFixed(2)).join(' ')} before, ` +
    `${loadAfter.map((v) => v.toFixed(2)).join(' ')} after (other worktrees share these cores)\n` +
    '- one broker first, then the cluster; the load generator is on the same machine.\n';
  console.log(`\n${markdown}\n`);
  const dir = fileURLToPath(new URL('../results/', import.meta.url));
  await writeFile(`${dir}e2e-brokers.md`, `${head}\n${markdown}\n`);
  const summary = opts.runs.map((r) => ({
    setup: r.setup,
    brokers: r.brokers,
    rate: r.rate,
    seconds: r.seconds,
    load1: r.load1,
    acked: r.accepted,
    stored: r.stored,
    answeredP99Ms: quantile(r.answered, 0.99),
    waitForAcksMs: r.stages.deliverMs,
    freshnessP99Ms: quantile(r.freshness, 0.99),
    cpuMsPer1000Events: cpuPerThousand(r),
    bottleneck: r.bottleneck,
  }));
  const maxRates = Object.fromEntries([...opts.maxRates].map(([setup, m]) => [setup, m.rate]));
  await writeFile(
    `${dir}e2e-brokers.json`,
    `${JSON.stringify({ command: opts.command, commit: commit(), runs: summary, maxRates }, null, 2)}\n`,
  );
  console.log(`written: ${dir}e2e-brokers.md and e2e-brokers.json`);
}
