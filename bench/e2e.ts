// End to end (issue 7): how fresh the data is, from a batch's send to its events being visible to a SELECT, and
// how fast the whole pipeline can go, with real Kafka, gateway, sink and ClickHouse, the load generator on the
// same machine.
//   npx tsx bench/e2e.ts [--mode distributed|embedded|both] [--rates 1000,5000,20000] [--seconds 20]
//                        [--max-seconds 60] [--brokers 3]
// `--max-seconds 0` skips the maximum-rate search; the quick smoke form is `--rates 200 --seconds 3
// --max-seconds 0`. `--cpu-prof DIR` makes the gateway and the sink write V8 CPU profiles into DIR/<service>/
// when they stop (node --cpu-prof), to see where their time goes. Numbers, not a timed test: it exits 1 only when an event was lost or doubled, never on
// slowness.
//
// The pipeline (e2e/stack.ts), every part a process of its own started as production starts it (the
// Dockerfile's stages, compiled): distributed is gateway → Kafka (KAFKA_BROKERS, else a broker from
// scripts/kafka.mjs) → sink → ClickHouse; embedded is one gateway with chDB inside. TIDEMARK_* variables of the
// environment reach the services (e.g. TIDEMARK_SINK_MAX_WAIT_MS), so a setting can be compared without code.
//
// Load (e2e/load.ts): SDK-shaped 20-event batches, one visitor each, POST /v1/batch, paced open-loop: batch n is
// due at n × interval whatever the answers before it, so a slow pipeline cannot lower the offered rate; batches
// that left over 100 ms late and answers over 1 s are counted. Freshness runs from a batch's due time.
//
// Visibility (e2e/visibility.ts): every 100 ms a poller asks the store which batches have all their rows, with
// the SELECT a dashboard would run, and stamps a batch visible when that answer arrives: an upper bound whose
// resolution is the interval plus one poll's round trip (both printed). How the poll reaches the store, and why:
//   - Distributed: the sink writes to ClickHouse over HTTP, here scripts/clickhouse-http.ts (chDB in a process
//     of its own), and the poller SELECTs from the same server. That is production's shape (DESIGN §1: the
//     distributed sink talks to a ClickHouse server), and the only honest one available: chDB binds its
//     directory to one process, so with TIDEMARK_CHDB_PATH nothing outside the sink can SELECT, and a query
//     endpoint added to the sink for the benchmark would share the sink's event loop and measure a path no
//     user has. Its cost: one HTTP hop per insert, and the endpoint runs one statement at a time (as one chDB
//     session does anyway), so each poll waits behind an insert and delays the next by its own few ms; the
//     store's CPU is a process of its own, which also lets the report tell sink from ClickHouse.
//   - Embedded: the gateway owns chDB, so the poll goes through its read API (POST /v1/sql with the admin
//     token), which reads on a second chDB session in the gateway process. Its cost lands on the measured
//     process: ~10 small requests per second on the gateway's event loop and a chDB read beside its inserts.
// `_inserted_at` (the store's clock when the INSERT ran) is printed beside it as a lower bound.
//
// Maximum sustained rate: from the best fixed rate that held, doubling while a run of --max-seconds holds and
// then two bisections (six steps at most); a rate holds when freshness p99 < 5 s, at least 99.9 % of the batches were answered 2xx
// and the generator itself kept up. Per stage, over the send window: CPU of every process (all threads, and the
// main thread that runs a Node event loop), the gateway's non-2xx and shed requests and its wait for Kafka's
// acks, the topic's new messages against what the gateway acknowledged, the sink's lag, rows/s and share of time
// inside INSERTs. The bottleneck is the first stage in flow order that shows its symptom (see `bottleneck`).
//
// `--brokers N` (N ≥ 3) runs the distributed pipeline twice in one run: on one broker with replication factor 1,
// then on an N-node KRaft cluster (scripts/kafka.mjs startKafkaCluster) whose topic has replication factor 3 and
// min.insync.replicas 2, the production shape of docs/architecture.md §4a. The same rates, the same code, minutes
// apart on the same machine, so their ratio is the cost of replication here (e2e/brokers.ts prints it and writes
// bench/results/e2e-brokers.md for docs/benchmarks.md). KAFKA_BROKERS is ignored then: both are started here.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startKafka, startKafkaCluster } from '../scripts/kafka.mjs';
import { isBroker, writeBrokerComparison } from './e2e/brokers.js';
import { isOk, type LoadResult, runLoad } from './e2e/load.js';
import { type CpuUse, type Usage, watch } from './e2e/procs.js';
import { metricByLabel, metricSum } from './e2e/prometheus.js';
import { type Mode, type Stack, type Stored, startDistributed, startEmbedded } from './e2e/stack.js';
import { quantile, startPoller } from './e2e/visibility.js';
import { type Figure, report } from './report.js';

const eventsPerBatch = 20;
const pollIntervalMs = 100;
/** Freshness p99 a rate must keep to count as sustained (issue 7). */
const sustainedP99Ms = 5000;
/** Share of batches answered 2xx below which the offered rate was not delivered. */
const deliveredShare = 0.999;
const goals = { p99Ms: 2000, gatewayRssMb: 200 };

/** Everything one fixed-rate run measured. */
export interface Run {
  mode: Mode;
  /** Which pipeline: `distributed`, `distributed, 3 brokers RF 3`, `embedded`. */
  setup: string;
  /** Kafka nodes the distributed pipeline ran on (0 embedded). */
  brokers: number;
  rate: number;
  seconds: number;
  load: LoadResult;
  /** Per accepted batch, ms from due to visible (Infinity when never seen), sorted. */
  freshness: number[];
  /** Per seen batch, ms from due to its rows' `_inserted_at`, sorted. */
  inserted: number[];
  /** Per accepted batch, ms from due to the gateway's 2xx (Kafka's ack, or the chDB insert), sorted. */
  answered: number[];
  notVisible: number;
  pollRoundTrip: { p50: number; p99: number; errors: number };
  stored: Stored;
  accepted: number;
  cpu: Map<string, CpuUse>;
  rssPeak: Map<string, number>;
  /** The whole machine's busy CPU over the send window, percent of one core, and its cores. */
  machine: { busy: number; cores: number };
  /** Length of the send window the CPU figures cover, s. */
  windowSeconds: number;
  /** The machine's 1-minute load average when the run began (other worktrees share these cores). */
  load1: number;
  stages: Stages;
  bottleneck: string;
}

/** The per-stage counters of one run, deltas over its send window. */
interface Stages {
  non2xx: number;
  shed: Map<string, number>;
  /** Mean time the gateway waited for its transport per request (Kafka acks, or the chDB insert), ms. */
  deliverMs: number;
  /** Events the gateway acknowledged, as messages (one per request and visitor). */
  ackedMessages: number;
  /** New messages in the topic (distributed). */
  topicMessages?: number;
  /** Sink rows inserted per second (distributed). */
  sinkRowsPerSecond?: number;
  /** Share of the window the sink spent inside INSERTs (distributed). */
  insertShare?: number;
  /** Mean rows per INSERT (distributed). */
  rowsPerFlush?: number;
  /** Consumer lag in messages: highest sampled, and at the end of the send window (distributed). */
  lagMax?: number;
  lagEnd?: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      mode: { type: 'string', default: 'both' },
      rates: { type: 'string', default: '1000,5000,20000' },
      seconds: { type: 'string', default: '20' },
      'max-seconds': { type: 'string', default: '60' },
      'cpu-prof': { type: 'string' },
      brokers: { type: 'string', default: '1' },
    },
  });
  const modes: Mode[] =
    values.mode === 'both' ? ['distributed', 'embedded'] : [values.mode as Mode].filter(isMode);
  const rates = values.rates
    .split(',')
    .map(Number)
    .filter((r) => r > 0);
  const seconds = Number(values.seconds);
  const maxSeconds = Number(values['max-seconds']);
  const clusterNodes = Number(values.brokers);
  // RF 3 needs three nodes; two would leave min in-sync 2 equal to the replication (architecture §4a).
  const brokersValid = clusterNodes === 1 || (Number.isInteger(clusterNodes) && clusterNodes >= 3);
  if (modes.length === 0 || rates.length === 0 || !(seconds > 0) || !(maxSeconds >= 0) || !brokersValid) {
    console.error(
      'usage: tsx bench/e2e.ts [--mode distributed|embedded|both] [--rates 1000,5000,20000] [--seconds 20] [--max-seconds 60] [--brokers 1|N≥3]',
    );
    process.exitCode = 2;
    return;
  }

  const cpuProfDir = values['cpu-prof'] ? resolve(values['cpu-prof']) : undefined;
  const id = randomUUID().slice(0, 8);
  const scratch = await mkdtemp(join(tmpdir(), 'tidemark-bench-e2e-'));
  const external = clusterNodes > 1 ? undefined : process.env.KAFKA_BROKERS?.split(',').filter(Boolean);
  let broker: Awaited<ReturnType<typeof startKafka>> | undefined;
  let cluster: Awaited<ReturnType<typeof startKafkaCluster>> | undefined;
  let current: Stack | undefined;
  // bench/all.ts stops a benchmark past its time limit with SIGTERM: the services and the broker go with it, and
  // the scratch directory too, instead of outliving the run.
  const stopOnSignal = (signal: NodeJS.Signals) => {
    console.error(`\n${signal}: stopping the pipeline`);
    void (async () => {
      await current?.stop().catch(() => {});
      await broker?.stop().catch(() => {});
      await cluster?.stop().catch(() => {});
      await rm(scratch, { recursive: true, force: true }).catch(() => {});
      process.exit(signal === 'SIGINT' ? 130 : 143);
    })();
  };
  process.once('SIGTERM', stopOnSignal);
  process.once('SIGINT', stopOnSignal);
  const figures: Figure[] = [];
  const runs: Run[] = [];
  let faults = 0;
  // The pipelines to measure, one after another: distributed on one broker (and on a cluster with --brokers),
  // embedded.
  const setups = modes.flatMap((mode): { mode: Mode; nodes: number }[] =>
    mode === 'embedded'
      ? [{ mode, nodes: 0 }]
      : [{ mode, nodes: 1 }, ...(clusterNodes > 1 ? [{ mode, nodes: clusterNodes }] : [])],
  );
  const maxRates = new Map<string, { rate: number; run?: Run; failed?: Run; steps: number }>();
  const started = new Date();
  const loadBefore = loadavg();
  try {
    for (const { mode, nodes } of setups) {
      let brokers: string[] = [];
      let replication: number | undefined;
      if (nodes === 1) {
        broker ??= external?.length
          ? undefined
          : await startKafka({ port: 0, dataDir: join(scratch, 'kafka') });
        brokers = external?.length ? external : (broker?.brokers ?? []);
      } else if (nodes > 1) {
        // One pipeline at a time on these cores: the single broker goes before the cluster starts.
        await broker?.stop();
        broker = undefined;
        cluster = await startKafkaCluster({ nodes, dataDir: join(scratch, 'kafka-cluster') });
        brokers = cluster.brokers;
        replication = cluster.replication;
      }
      const setup = nodes > 1 ? `${mode}, ${nodes} brokers RF ${replication}` : mode;
      const stack: Stack =
        mode === 'distributed'
          ? await startDistributed({
              brokers,
              // A store of its own per setup: the projects of each setup's runs start again at e2e-0.
              scratch: await mkdtemp(join(scratch, `distributed-${nodes}-`)),
              id: `${id}-${nodes}`,
              cpuProfDir,
              replication,
            })
          : await startEmbedded({ scratch, cpuProfDir });
      current = stack;
      try {
        console.log(
          `\n${setup}: ${[...stack.pids].map(([name, pid]) => `${name} pid ${pid}`).join(', ')}` +
            `${mode === 'distributed' ? `; Kafka ${brokers.join(',')} (${broker || cluster ? 'started for the run' : 'KAFKA_BROKERS'})` : ''}\n` +
            `  visibility: ${stack.pollPath}, every ${pollIntervalMs} ms`,
        );
        const context = { setup, brokers: nodes };
        let index = 0;
        // Warm-up, not reported: the sink joins its group, both JITs warm, the first parts are written. Compared
        // setups (--brokers) warm up for a whole run: a fresh cluster's JVMs spent the first seconds still settling
        // (in one run its 1 000 events/s cost 0.8 core of Kafka, against 0.5 core at 1 500 events/s a minute later).
        const warmUpSeconds = clusterNodes > 1 ? seconds : Math.min(3, seconds);
        await measure(stack, context, index++, Math.min(...rates, 1000), warmUpSeconds, true);
        const fixed: Run[] = [];
        for (const rate of rates) {
          const run = await measure(stack, context, index++, rate, seconds);
          fixed.push(run);
          runs.push(run);
        }
        let maxRate: { rate: number; run?: Run; failed?: Run; steps: number } | undefined;
        if (maxSeconds > 0) {
          maxRate = await searchMaxRate(stack, context, fixed, maxSeconds, () => index++);
          maxRates.set(setup, maxRate);
          if (maxRate.run) runs.push(maxRate.run);
          if (maxRate.failed) runs.push(maxRate.failed);
        }
        const setupRuns = runs.filter((r) => r.setup === setup);
        faults += setupRuns.filter(
          (r) => r.stored.distinct < r.accepted || r.stored.rows > r.stored.distinct,
        ).length;
        const key = nodes > 1 ? `${mode}_${nodes}brokers` : mode;
        figures.push(...figuresOf(key, setup, fixed, maxRate, stack));
      } catch (err) {
        console.error(stack.output());
        throw err;
      } finally {
        await stack.stop();
        current = undefined;
        await cluster?.stop();
        cluster = undefined;
      }
    }
    printTable(runs);
    if (clusterNodes > 1 && modes.includes('distributed')) {
      await writeBrokerComparison({
        runs: runs.filter((r) => r.mode === 'distributed'),
        maxRates,
        command: `npx tsx bench/e2e.ts ${process.argv.slice(2).join(' ')}`,
        started,
        loadBefore,
      });
    }
    // JSON has no Infinity: a figure whose batches were never visible is left out (and its line says "never").
    report(
      'e2e.ts',
      figures.filter((f) => Number.isFinite(f.value)),
    );
    if (faults > 0) {
      console.log(`\n${faults} run(s) lost or doubled events: see "stored" above`);
      process.exitCode = 1;
    }
  } finally {
    await broker?.stop();
    await cluster?.stop();
    await rm(scratch, { recursive: true, force: true });
    process.off('SIGTERM', stopOnSignal);
    process.off('SIGINT', stopOnSignal);
  }
}

const isMode = (m: string): m is Mode => m === 'distributed' || m === 'embedded';

/** One fixed-rate run on project `index`: load, visibility, stage metrics, then the loss count. */
async function measure(
  stack: Stack,
  context: { setup: string; brokers: number },
  index: number,
  rate: number,
  seconds: number,
  warmUp = false,
): Promise<Run> {
  const { writeKey, project } = stack.key(index);
  const tag = `r${index}`;
  const poller = startPoller({
    query: stack.query,
    project,
    tag,
    eventsPerBatch,
    intervalMs: pollIntervalMs,
  });
  const gatewayBefore = await stack.gatewayMetrics();
  const sinkBefore = await stack.sinkMetrics?.();
  const topicBefore = await stack.topicMessages?.();
  let lagMax = 0;
  let lagEnd = 0;
  const sampleLag = async () => {
    const text = await stack.sinkMetrics?.().catch(() => undefined);
    if (text === undefined) return;
    lagEnd = metricSum(text, 'tidemark_sink_consumer_lag');
    lagMax = Math.max(lagMax, lagEnd);
  };
  const lagTimer = stack.sinkMetrics ? setInterval(() => void sampleLag(), 1000) : undefined;
  const load1 = loadavg()[0] ?? 0;
  const usage = watch(stack.pids);
  const started = Date.now();
  let window: Usage | undefined;
  let windowSeconds = 0;
  let sinkAtEnd: Promise<string | undefined> | undefined;
  const load = await runLoad({
    url: stack.gatewayUrl,
    writeKey,
    tag,
    rate,
    seconds,
    eventsPerBatch,
    onSent: (batch) => poller.expect(batch.n, batch.dueAt),
    onAllSent: () => {
      window = usage.stop();
      windowSeconds = (Date.now() - started) / 1000;
      clearInterval(lagTimer);
      sinkAtEnd = stack.sinkMetrics?.().catch(() => undefined);
    },
  });
  const { cpu, rssPeak, machine } = window ?? usage.stop();
  clearInterval(lagTimer);
  const gatewayAfter = await stack.gatewayMetrics();
  const sinkAfter = await sinkAtEnd;
  if (sinkAfter !== undefined) {
    lagEnd = metricSum(sinkAfter, 'tidemark_sink_consumer_lag');
    lagMax = Math.max(lagMax, lagEnd);
  }
  const topicAfter = await stack.topicMessages?.();
  for (const batch of load.batches) if (!isOk(batch.status)) poller.forget(batch.n);
  // What was acknowledged must become visible; what is not within 30 s counts as never (and fails the run), so a
  // full run stays within bench/all.ts's time limit.
  await poller.drain(30_000);
  poller.stop();

  const accepted = load.batches.filter((b) => isOk(b.status));
  const freshness = accepted
    .map((b) => {
      const seen = poller.seen.get(b.n);
      return seen ? seen.visibleAt - b.dueAt : Number.POSITIVE_INFINITY;
    })
    .sort((a, b) => a - b);
  const inserted = accepted
    .flatMap((b) => {
      const seen = poller.seen.get(b.n);
      return seen ? [seen.insertedAt - b.dueAt] : [];
    })
    .sort((a, b) => a - b);
  const answered = accepted.map((b) => (b.answeredAt ?? b.dueAt) - b.dueAt).sort((a, b) => a - b);
  const trips = [...poller.roundTrips].sort((a, b) => a - b);
  const stored = await settled(stack, project, accepted.length * eventsPerBatch);

  const delta = (name: string, label?: string) =>
    metricSum(gatewayAfter, name, label) - metricSum(gatewayBefore, name, label);
  const shedAfter = metricByLabel(gatewayAfter, 'tidemark_gateway_shed_total', 'cause');
  const shedBefore = metricByLabel(gatewayBefore, 'tidemark_gateway_shed_total', 'cause');
  const shed = new Map(
    [...shedAfter]
      .map(([cause, n]) => [cause, n - (shedBefore.get(cause) ?? 0)] as const)
      .filter(([, n]) => n > 0),
  );
  const deliveries = delta('tidemark_gateway_produce_duration_seconds_count');
  const stages: Stages = {
    non2xx: load.batches.filter((b) => !isOk(b.status)).length,
    shed,
    deliverMs:
      deliveries > 0 ? (delta('tidemark_gateway_produce_duration_seconds_sum') * 1000) / deliveries : 0,
    ackedMessages: delta('tidemark_gateway_events_accepted_total') / eventsPerBatch,
  };
  if (sinkBefore !== undefined && sinkAfter !== undefined) {
    const sinkDelta = (name: string) => metricSum(sinkAfter, name) - metricSum(sinkBefore, name);
    const flushes = sinkDelta('tidemark_sink_flush_rows_count');
    stages.topicMessages = (topicAfter ?? 0) - (topicBefore ?? 0);
    stages.sinkRowsPerSecond = sinkDelta('tidemark_sink_rows_inserted_total') / windowSeconds;
    stages.insertShare = sinkDelta('tidemark_sink_insert_duration_seconds_sum') / windowSeconds;
    stages.rowsPerFlush = flushes > 0 ? sinkDelta('tidemark_sink_flush_rows_sum') / flushes : 0;
    stages.lagMax = lagMax;
    stages.lagEnd = lagEnd;
  }

  const run: Run = {
    mode: stack.mode,
    ...context,
    rate,
    seconds,
    load,
    freshness,
    inserted,
    answered,
    notVisible: freshness.filter((f) => f === Number.POSITIVE_INFINITY).length,
    pollRoundTrip: { p50: quantile(trips, 0.5), p99: quantile(trips, 0.99), errors: poller.errors },
    stored,
    accepted: accepted.length * eventsPerBatch,
    cpu,
    rssPeak,
    machine,
    windowSeconds,
    load1,
    stages,
    bottleneck: '',
  };
  run.bottleneck = bottleneck(run);
  if (!warmUp) printRun(run, stack);
  else if (run.notVisible > 0 || stored.distinct < run.accepted)
    console.log(
      `  warm-up: ${run.notVisible} batches never visible, stored ${stored.distinct} of ${run.accepted}`,
    );
  return run;
}

/**
 * The run's rows once the pipeline has caught up: a backlog still draining is not a loss, so the count is
 * taken when every acknowledged event is there, or when it stopped growing for 15 s.
 */
async function settled(stack: Stack, project: string, accepted: number): Promise<Stored> {
  let stored = await stack.stored(project);
  let progressAt = Date.now();
  while (stored.distinct < accepted && Date.now() - progressAt < 15_000) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const now = await stack.stored(project);
    if (now.distinct > stored.distinct) progressAt = Date.now();
    stored = now;
  }
  return stored;
}

/** A rate holds when freshness p99 stays under 5 s, the gateway answered 2xx and the generator kept up. */
function holds(run: Run): boolean {
  const offered = run.load.batches.length;
  return (
    quantile(run.freshness, 0.99) < sustainedP99Ms &&
    offered - run.stages.non2xx >= deliveredShare * offered &&
    run.load.late <= 0.01 * offered
  );
}

/**
 * The stage that limits a run: the first, in the order data flows, that shows its symptom over the send window.
 *   load generator: more than 1 % of batches left late, or its main thread ≥ 90 % of a core;
 *   gateway: any non-2xx or shed request, or its main thread (the event loop) ≥ 90 % of a core;
 *   Kafka (distributed): the gateway's mean wait for acks ≥ 250 ms, or the broker ≥ 90 % of a core;
 *   then, when the sink falls behind (lag at the end of the window over 2 s of messages):
 *     ClickHouse: the sink spent ≥ 80 % of the window inside INSERTs, or the store's process ≥ 90 %;
 *     sink: its main thread ≥ 90 %; otherwise "sink (flush pacing)".
 * Embedded has one process: the event loop, or chDB's insert (mean wait ≥ 250 ms) when that is what it waits on.
 * When nothing shows and the pipeline's processes together used ≥ 90 % of the cores, it is the machine's CPU;
 * when the run held, "none". A run that did not hold while the machine was ≥ 90 % busy and the pipeline's
 * processes had less than 60 % of that is named for the machine first (others took the CPU: these machines are
 * shared, and then every stage starves alike), with the first stage that showed its symptom after it.
 */
function bottleneck(run: Run): string {
  const total = [...run.cpu.values()].reduce((sum, c) => sum + c.all, 0);
  const stage = firstSymptom(run, total);
  if (!holds(run) && run.machine.busy >= 0.9 * 100 * run.machine.cores && total < 0.6 * run.machine.busy)
    return `machine CPU taken by processes outside the pipeline (first symptom: ${stage})`;
  return stage;
}

function firstSymptom(run: Run, total: number): string {
  const cpu = (name: string) => run.cpu.get(name) ?? { all: 0, main: 0 };
  const offered = run.load.batches.length;
  const { stages } = run;
  const capacity = 100 * run.machine.cores;
  if (run.load.late > 0.01 * offered || cpu('load generator').main >= 90)
    return `load generator (${run.load.late} batches left late, main thread ${pct(cpu('load generator').main)})`;
  if (stages.non2xx > 0 || stages.shed.size > 0 || cpu('gateway').main >= 90)
    return `gateway (${stages.non2xx} non-2xx, main thread ${pct(cpu('gateway').main)})`;
  if (run.mode === 'embedded') {
    if (stages.deliverMs >= 250) return `chDB insert in the gateway (mean wait ${ms(stages.deliverMs)})`;
  } else {
    // On a cluster, the busiest node: each is a JVM of its own, and one saturated leader holds every write back.
    const broker = Math.max(0, ...[...run.cpu].filter(([name]) => isBroker(name)).map(([, c]) => c.all));
    if (stages.deliverMs >= 250 || broker >= 90)
      return `Kafka (mean wait for acks ${ms(stages.deliverMs)}, busiest broker ${pct(broker)})`;
    const behind = (stages.lagEnd ?? 0) > (2 * run.rate) / eventsPerBatch;
    if (behind) {
      if ((stages.insertShare ?? 0) >= 0.8 || cpu('ClickHouse').main >= 90)
        return `ClickHouse (the sink inside INSERTs ${pct((stages.insertShare ?? 0) * 100)} of the time)`;
      if (cpu('sink').main >= 90) return `sink CPU (main thread ${pct(cpu('sink').main)})`;
      return 'sink (flush pacing)';
    }
  }
  if (total >= 0.9 * capacity)
    return `machine CPU (the pipeline used ${pct(total)} of ${run.machine.cores} cores)`;
  return holds(run) ? 'none' : 'latency (no stage saturated)';
}

/** Doubling from the best fixed rate that held, then two bisections; each step runs `seconds`. */
async function searchMaxRate(
  stack: Stack,
  context: { setup: string; brokers: number },
  fixed: Run[],
  seconds: number,
  nextIndex: () => number,
): Promise<{ rate: number; run?: Run; failed?: Run; steps: number }> {
  console.log(
    `\n  ${context.setup}: maximum sustained rate (p99 < ${sustainedP99Ms / 1000} s over ${seconds} s, ≥ 99.9 % 2xx)`,
  );
  const heldFixed = fixed.filter(holds).map((r) => r.rate);
  let low = heldFixed.length > 0 ? Math.max(...heldFixed) : 0;
  let lowRun: Run | undefined;
  let high: number | undefined;
  let highRun: Run | undefined;
  let steps = 0;
  let bisections = 0;
  // The fixed runs were shorter: the best of them is run again for the full time before doubling from it.
  let rate = low > 0 ? low : Math.min(...fixed.map((r) => r.rate), 1000);
  while (steps < 6) {
    steps += 1;
    const run = await measure(stack, context, nextIndex(), rate, seconds);
    if (holds(run)) {
      low = rate;
      lowRun = run;
    } else {
      high = rate;
      highRun = run;
    }
    if (high === undefined) rate *= 2;
    else if (lowRun === undefined) {
      if (rate <= 250) break;
      rate = Math.round(rate / 2);
    } else {
      if (bisections === 2) break;
      bisections += 1;
      rate = Math.round((low + high) / 2 / 50) * 50;
    }
  }
  const best = lowRun ? low : 0;
  console.log(
    `  → ${context.setup} maximum sustained rate: ${best.toLocaleString('en-US')} events/s after ${steps} steps` +
      `${highRun ? `; at ${highRun.rate.toLocaleString('en-US')} events/s the bottleneck was: ${highRun.bottleneck}` : ''}`,
  );
  return { rate: best, ...(lowRun ? { run: lowRun } : {}), ...(highRun ? { failed: highRun } : {}), steps };
}

const ms = (v: number) => (Number.isFinite(v) ? `${Math.round(v).toLocaleString('en-US')} ms` : 'never');
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const pct = (v: number) => `${v.toFixed(0)} %`;

function printRun(run: Run, stack: Stack): void {
  const { load, stages } = run;
  const offered = load.batches.length;
  const codes = [...load.statuses]
    .filter(([code]) => code < 200 || code >= 300)
    .map(([code, n]) => `${code === 0 ? 'network error' : code}×${n}`);
  const fresh = run.freshness;
  const cpu = [...run.cpu]
    .map(
      ([name, c]) =>
        `${name} ${pct(c.all)}${isBroker(name) || name === 'ClickHouse' ? '' : ` (main ${pct(c.main)})`}`,
    )
    .join(', ');
  const rss = [...run.rssPeak]
    .filter(([name]) => name === 'gateway' || name === 'sink')
    .map(([name, b]) => `${name} ${mb(b)}`)
    .join(', ');
  console.log(
    `\n  ${run.setup} at ${run.rate.toLocaleString('en-US')} events/s for ${run.seconds} s (load average ${run.load1.toFixed(2)}): ` +
      `offered ${offered} batches (${offered * eventsPerBatch} events), 2xx ${offered - stages.non2xx}` +
      `${codes.length ? ` (${codes.join(', ')})` : ''}, left >${load.lateMs} ms late ${load.late}, answers >${load.slowMs} ms ${load.slow}\n` +
      `    freshness (due → visible): p50 ${ms(quantile(fresh, 0.5))}, p99 ${ms(quantile(fresh, 0.99))}, max ${ms(fresh.at(-1) ?? Number.NaN)}` +
      `${run.notVisible ? `, ${run.notVisible} batches never visible` : ''}\n` +
      `    due → 2xx: p50 ${ms(quantile(run.answered, 0.5))}, p99 ${ms(quantile(run.answered, 0.99))}; ` +
      `due → _inserted_at (lower bound): p50 ${ms(quantile(run.inserted, 0.5))}, p99 ${ms(quantile(run.inserted, 0.99))}; ` +
      `poll round trip p50 ${ms(run.pollRoundTrip.p50)}, p99 ${ms(run.pollRoundTrip.p99)}, failed polls ${run.pollRoundTrip.errors}\n` +
      `    CPU (% of one core, over the send window): ${cpu}; ` +
      `whole machine ${pct(run.machine.busy)} of ${pct(100 * run.machine.cores)}\n` +
      `    gateway: shed ${stages.shed.size ? [...stages.shed].map(([c, n]) => `${c}×${n}`).join(', ') : 'none'}, ` +
      `mean wait for ${run.mode === 'distributed' ? "Kafka's acks" : 'the chDB insert'} ${ms(stages.deliverMs)}` +
      `${
        stages.topicMessages !== undefined
          ? `; Kafka: ${stages.topicMessages} new messages for ${stages.ackedMessages} acknowledged` +
            `; sink: ${Math.round(stages.sinkRowsPerSecond ?? 0).toLocaleString('en-US')} rows/s, ` +
            `${pct((stages.insertShare ?? 0) * 100)} of the time inside INSERTs, ${Math.round(stages.rowsPerFlush ?? 0)} rows/INSERT, ` +
            `lag max ${stages.lagMax} / end ${stages.lagEnd} messages`
          : stack.sinkMetrics
            ? '; sink metrics: no answer at the end of the window'
            : ''
      }\n` +
      `    RSS peak: ${rss}${stack.batchLimits ? ` (sink batch limits: ${stack.batchLimits})` : ''}\n` +
      `    stored: ${run.stored.rows} rows, ${run.stored.distinct} distinct event ids, for ${run.accepted} events acknowledged` +
      `${run.stored.distinct < run.accepted ? ' — LOST' : ''}${run.stored.rows > run.stored.distinct ? ' — DOUBLED' : ''}\n` +
      `    bottleneck: ${run.bottleneck}`,
  );
}

function printTable(runs: Run[]): void {
  console.log(
    '\n| mode | events/s | s | 2xx | late | freshness p50 | p99 | max | _inserted_at p99 | bottleneck | gateway RSS | sink RSS | stored / acked |\n' +
      '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  );
  for (const r of runs) {
    const offered = r.load.batches.length;
    console.log(
      `| ${r.setup} | ${r.rate.toLocaleString('en-US')} | ${r.seconds} | ${(((offered - r.stages.non2xx) / offered) * 100).toFixed(1)} % | ` +
        `${r.load.late} | ${ms(quantile(r.freshness, 0.5))} | ${ms(quantile(r.freshness, 0.99))} | ${ms(r.freshness.at(-1) ?? Number.NaN)} | ` +
        `${ms(quantile(r.inserted, 0.99))} | ${r.bottleneck} | ${mb(r.rssPeak.get('gateway') ?? 0)} | ` +
        `${r.rssPeak.has('sink') ? mb(r.rssPeak.get('sink') ?? 0) : '–'} | ${r.stored.distinct} / ${r.accepted} |`,
    );
  }
}

/** The figures of one setup; `key` names it in the figures' keys, `setup` in their labels. */
function figuresOf(
  key: string,
  setup: string,
  fixed: Run[],
  maxRate: { rate: number; run?: Run; failed?: Run; steps: number } | undefined,
  stack: Stack,
): Figure[] {
  const figures: Figure[] = [];
  for (const run of fixed) {
    const at = `${run.rate.toLocaleString('en-US')} events/s (${setup})`;
    const note = `${run.seconds} s, ${run.load.batches.length} batches, poll every ${pollIntervalMs} ms`;
    const p99Goal = run.rate === 5000 ? { goal: { op: '<=' as const, value: goals.p99Ms } } : {};
    figures.push(
      {
        key: `e2e.${key}.${run.rate}.freshness_p50_ms`,
        label: `freshness p50 at ${at}`,
        value: quantile(run.freshness, 0.5),
        unit: 'ms',
        note,
      },
      {
        key: `e2e.${key}.${run.rate}.freshness_p99_ms`,
        label: `freshness p99 at ${at}`,
        value: quantile(run.freshness, 0.99),
        unit: 'ms',
        ...p99Goal,
        note,
      },
      {
        key: `e2e.${key}.${run.rate}.freshness_max_ms`,
        label: `freshness max at ${at}`,
        value: run.freshness.at(-1) ?? Number.NaN,
        unit: 'ms',
        note,
      },
    );
  }
  if (maxRate) {
    figures.push({
      key: `e2e.${key}.max_rate_events_per_s`,
      label: `maximum sustained rate (${setup}, p99 < 5 s)`,
      value: maxRate.rate,
      unit: 'events/s',
      note: `${maxRate.steps} steps${maxRate.failed ? `; bottleneck at ${maxRate.failed.rate}: ${maxRate.failed.bottleneck}` : ''}`,
    });
  }
  // Memory during the sustained run when there was one, else the highest fixed rate.
  const memoryRun = maxRate?.run ?? [...fixed].sort((a, b) => b.rate - a.rate)[0];
  if (memoryRun) {
    const note = `peak VmRSS sampled every 500 ms at ${memoryRun.rate} events/s`;
    figures.push({
      key: `e2e.${key}.gateway_rss_peak_mb`,
      label: `gateway RSS peak (${setup})`,
      value: Math.round((memoryRun.rssPeak.get('gateway') ?? 0) / 1024 / 1024),
      unit: 'MB',
      ...(key.startsWith('distributed') ? { goal: { op: '<=' as const, value: goals.gatewayRssMb } } : {}),
      note,
    });
    if (memoryRun.rssPeak.has('sink')) {
      figures.push({
        key: `e2e.${key}.sink_rss_peak_mb`,
        label: `sink RSS peak (${setup})`,
        value: Math.round((memoryRun.rssPeak.get('sink') ?? 0) / 1024 / 1024),
        unit: 'MB',
        note: `${note}; ${stack.batchLimits ?? ''}`,
      });
    }
  }
  const all = [
    ...fixed,
    ...(maxRate?.run ? [maxRate.run] : []),
    ...(maxRate?.failed ? [maxRate.failed] : []),
  ];
  figures.push({
    key: `e2e.${key}.lost_or_doubled_events`,
    label: `events lost or doubled (${setup}, every run)`,
    value: all.reduce(
      (sum, r) =>
        sum + Math.max(0, r.accepted - r.stored.distinct) + Math.max(0, r.stored.rows - r.stored.distinct),
      0,
    ),
    unit: 'events',
    goal: { op: '<=', value: 0 },
  });
  return figures;
}

await main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
