// Distributed-mode gateway under load: how many events per second one gateway process takes in through
// POST /v1/batch and makes durable in Kafka (acks=all), against the ceiling of a bare Fastify server that only
// parses the same bodies, and the latency it answers with at half its maximum rate. In one run:
//   1. the ceiling: a plain Fastify server (text/plain parsed as JSON, 200, nothing else),
//   2. the gateway, unthrottled, with the same autocannon settings,
//   3. the gateway again at half the request rate it reached in 2,
// then the topic's offsets are checked against what the gateway says it accepted. Steps 2 and 3 run once per Kafka
// client named (TIDEMARK_KAFKA_CLIENT of the gateway), back to back against the same ceiling and broker, each
// with a fresh gateway process and topic, and a table compares them at the end:
//   npx tsx bench/gateway.ts [seconds=10] [connections=20] [clients=kafkajs] [rounds=1] [workers=1] [--cpu-prof DIR]
// e.g. `npx tsx bench/gateway.ts 10 20 kafkajs,platformatic 2`: rounds alternate the order (see below).
// `workers` is a list of TIDEMARK_GATEWAY_WORKERS values, each run as its own gateway (`… kafkajs 2 1,2`).
// CPU per event, the figure the goals judge (a 2-core machine shared with the broker and the load generator makes
// events/s noisy, CPU time much less so), is the user+system time of every thread of the server's processes
// (/proc/<pid>/stat of the gateway and of its workers) over the events it took in, the gateway's from its
// metrics and the ceiling's from its own count, unthrottled, warm-up included. Per request it is also printed
// for the main threads alone (/proc/<pid>/task/<pid>/stat: the event loops, which cap throughput), and for the
// run at half the rate.
// Uses the broker in KAFKA_BROKERS, else starts one with scripts/kafka.mjs. Both servers run in child processes,
// so their RSS (from /proc) is theirs alone and they do not share an event loop with autocannon. The gateway runs
// as in production: compiled and started as the Dockerfile's gateway stage says (`production()` below). The
// ceiling (bench/gateway-ceiling.ts) runs with `node --import tsx`, so its RSS includes tsx's loader, which the
// compiled gateway does not carry. Rate limits are turned off; shedding and everything else keep their
// defaults, and TIDEMARK_* variables in the environment reach the gateway.
import { type ChildProcess, execSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { dockerStage } from '../scripts/dockerfile.mjs';
import { freePort, startKafka } from '../scripts/kafka.mjs';
import { batchBody, CHROME } from './batch.js';
import { type Figure, report } from './report.js';

const root = fileURLToPath(new URL('..', import.meta.url));
/**
 * The gateway as production runs it: the build steps and CMD of the Dockerfile's gateway stage
 * (scripts/dockerfile.mjs), which compile it and start dist/server.js with its node flags. Built once per run.
 */
let built: ReturnType<typeof dockerStage> | undefined;
function production(): ReturnType<typeof dockerStage> {
  if (!built) {
    built = dockerStage('gateway');
    for (const step of built.run) execSync(step, { cwd: built.dir, stdio: 'inherit' });
  }
  return built;
}

/** The slice of autocannon's options and result this benchmark uses (autocannon ships no types). */
interface CannonRequest {
  method: 'POST';
  path: string;
  headers: Record<string, string>;
  body: string;
}
interface CannonOptions {
  url: string;
  connections: number;
  duration: number;
  requests: CannonRequest[];
  overallRate?: number;
  warmup?: { connections: number; duration: number };
}
interface CannonResult {
  /** `total`: responses received. */
  requests: { total: number };
  /** Seconds. */
  duration: number;
  /** Milliseconds. */
  latency: { p50: number; p99: number; max: number };
  errors: number;
  timeouts: number;
  '1xx': number;
  '2xx': number;
  '3xx': number;
  '4xx': number;
  '5xx': number;
  statusCodeStats: Record<string, { count: number }>;
}
// autocannon ships no types: required, and typed by the interfaces above.
const autocannon = createRequire(import.meta.url)('autocannon') as (
  options: CannonOptions,
) => Promise<CannonResult>;

type KafkaClient = 'kafkajs' | 'platformatic';

// `--cpu-prof DIR` anywhere in the arguments: each gateway writes a V8 CPU profile into DIR/<topic>/ when it
// stops (node --cpu-prof, which NODE_OPTIONS does not accept); the other arguments are positional.
const argv = process.argv.slice(2);
const profIndex = argv.indexOf('--cpu-prof');
const cpuProfDir = profIndex === -1 ? undefined : argv.splice(profIndex, 2)[1];
const args = argv;
const profile = (name: string) =>
  cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${join(cpuProfDir, name)}`];

/** The goals of issue 24, printed beside the figures. */
interface Goals {
  /** All threads of the gateway, µs of CPU per event, unthrottled. */
  cpuUsPerEvent: number;
  /** The gateway's CPU per event over the parse-and-drop server's, at most. */
  cpuRatio: number;
  p99Ms: number;
  rssMb: number;
}

/** What one gateway run (a client and a worker count) produced, for the comparison table. */
interface ClientResult {
  client: KafkaClient;
  workers: number;
  eventsPerSecond: number;
  /** The gateway's CPU per event over the ceiling's. */
  cpuRatio: number;
  halfP99: number;
  rssPeak: number;
  cpuMax: Cpu;
  cpuHalf: Cpu;
  match: boolean;
}

async function bench(): Promise<void> {
  const [seconds = 10, connections = 20] = args.slice(0, 2).map(Number);
  const rounds = Number(args[3] ?? 1);
  const clients = (args[2] ?? process.env.TIDEMARK_KAFKA_CLIENT ?? 'kafkajs')
    .split(',')
    .map((c) => c.trim())
    .filter((c): c is KafkaClient => {
      if (c === 'kafkajs' || c === 'platformatic') return true;
      throw new Error(`unknown Kafka client "${c}" (kafkajs, platformatic)`);
    });
  const workerCounts = (args[4] ?? '1').split(',').map((w) => {
    const n = Number(w);
    if (!Number.isSafeInteger(n) || n < 1) throw new Error(`workers: "${w}" is not a positive integer`);
    return n;
  });
  const eventsPerBatch = 20;
  const distinctBodies = 50;
  const warmupSeconds = 5;
  const goals: Goals = { cpuUsPerEvent: 20, cpuRatio: 4, p99Ms: 50, rssMb: 200 };

  const id = randomUUID().slice(0, 8);
  const writeKey = `bench-key-${id}`;
  const scratch = await mkdtemp(join(tmpdir(), 'tidemark-bench-gateway-'));
  const external = process.env.KAFKA_BROKERS?.split(',').filter(Boolean);
  const children: Server[] = [];
  let broker: Awaited<ReturnType<typeof startKafka>> | undefined;
  try {
    broker = external?.length ? undefined : await startKafka({ port: 0, dataDir: join(scratch, 'kafka') });
    const brokers = external?.length ? external : (broker?.brokers ?? []);
    const requests = Array.from({ length: distinctBodies }, (_, n) => ({
      method: 'POST' as const,
      path: '/v1/batch',
      headers: { 'content-type': 'text/plain', 'user-agent': CHROME, origin: 'https://shop.example' },
      body: batchBody(writeKey, n, eventsPerBatch),
    }));
    const bodyBytes = requests.reduce((sum, r) => sum + Buffer.byteLength(r.body), 0) / requests.length;
    const load = (url: string, overallRate?: number) =>
      autocannon({
        url,
        connections,
        duration: seconds,
        requests,
        ...(overallRate ? { overallRate } : { warmup: { connections, duration: warmupSeconds } }),
      });

    console.log(
      `gateway bench: ${seconds} s per run (unthrottled ones after ${warmupSeconds} s of warm-up), ${connections} connections, ` +
        `${distinctBodies} distinct ${eventsPerBatch}-event batches of ${(bodyBytes / 1024).toFixed(1)} KiB, ` +
        `one visitor each\n` +
        `  Kafka ${brokers.join(',')} (${broker ? 'started for the run' : 'KAFKA_BROKERS'}); ` +
        `gateway Kafka clients, one after the other: ${clients.join(', ')}; workers: ${workerCounts.join(', ')}; ` +
        `rate limits OFF for the benchmark (TIDEMARK_RATE_LIMIT_PER_IP=0, TIDEMARK_RATE_LIMIT_PER_KEY=0)\n` +
        `  RSS: the server's child process, /proc VmRSS sampled every 100 ms (peak) and VmHWM at the end; ` +
        `CPU: user+system of every thread of the server's processes (/proc), warm-up included, per event taken in`,
    );

    // 1. The ceiling.
    const ceilingPort = await freePort();
    const ceiling = await startServer(
      'ceiling',
      spawn(process.execPath, ['--import', 'tsx', 'bench/gateway-ceiling.ts', String(ceilingPort)], {
        cwd: root,
        stdio: ['ignore', 'inherit', 'inherit'],
      }),
      `http://127.0.0.1:${ceilingPort}`,
      '/',
    );
    children.push(ceiling);
    const ceilingBefore = await usage(ceiling, 'ceiling');
    const top = await measure(ceiling, () => load(ceiling.url));
    const ceilingCpu = cpuPerRequest(ceilingBefore, await usage(ceiling, 'ceiling'));
    await ceiling.stop();
    console.log(line('ceiling, Fastify parse-and-drop', top, eventsPerBatch));
    console.log(`  ceiling CPU per event, all threads: ${us(ceilingCpu.perEventUs)}`);

    // Whichever gateway runs first meets a broker that has just started (its JIT still warming) and measured
    // slower for either client, so with several rounds the order alternates (A B, B A, …) and medians compare.
    const variants = clients.flatMap((client) => workerCounts.map((workers) => ({ client, workers })));
    const results: (ClientResult & { round: number })[] = [];
    for (let round = 1; round <= rounds; round += 1) {
      const order = round % 2 === 1 ? variants : [...variants].reverse();
      for (const { client, workers } of order) {
        const result = await benchGateway({
          client,
          workers,
          topic: `tidemark.bench.${id}.${client}.${workers}.${round}`,
          writeKey,
          brokers,
          ceilingCpu,
          eventsPerBatch,
          load,
          goals,
          children,
        });
        results.push({ ...result, round });
        if (!result.match) process.exitCode = 1;
      }
    }
    console.log(
      `\n  | client | workers | round | events/s | CPU µs/event, all threads (goal ≤ ${goals.cpuUsPerEvent}) | ` +
        `/ ceiling's ${us(ceilingCpu.perEventUs)} (goal ≤ ${goals.cpuRatio}) | p99 at half rate (goal ≤ ${goals.p99Ms} ms) | ` +
        `RSS peak (goal ≤ ${goals.rssMb} MB) | CPU ms/request, all threads (main thread), max · half rate |\n` +
        `  |---|---|---|---|---|---|---|---|---|`,
    );
    const verdict = (met: boolean) => (met ? 'met' : 'MISSED');
    const row = (r: Omit<ClientResult, 'match'>, round: string) =>
      `  | ${r.client} | ${r.workers} | ${round} | ${Math.round(r.eventsPerSecond)} | ` +
      `${us(r.cpuMax.perEventUs)} ${verdict(r.cpuMax.perEventUs <= goals.cpuUsPerEvent)} | ` +
      `${r.cpuRatio.toFixed(1)} ${verdict(r.cpuRatio <= goals.cpuRatio)} | ` +
      `${ms(r.halfP99)} ${verdict(r.halfP99 <= goals.p99Ms)} | ` +
      `${mb(r.rssPeak)} ${verdict(r.rssPeak <= goals.rssMb * 1024 * 1024)} | ${cpuText(r.cpuMax)} · ${cpuText(r.cpuHalf)} |`;
    for (const r of results) console.log(row(r, String(r.round)));
    if (rounds > 1) {
      for (const { client, workers } of variants) {
        const mine = results.filter((r) => r.client === client && r.workers === workers);
        const cpu = (pick: (r: ClientResult) => Cpu): Cpu => ({
          all: median(mine.map((r) => pick(r).all)),
          main: median(mine.map((r) => pick(r).main)),
          requests: 0,
          perEventUs: median(mine.map((r) => pick(r).perEventUs)),
        });
        console.log(
          row(
            {
              client,
              workers,
              eventsPerSecond: median(mine.map((r) => r.eventsPerSecond)),
              cpuRatio: median(mine.map((r) => r.cpuRatio)),
              halfP99: median(mine.map((r) => r.halfP99)),
              rssPeak: median(mine.map((r) => r.rssPeak)),
              cpuMax: cpu((r) => r.cpuMax),
              cpuHalf: cpu((r) => r.cpuHalf),
            },
            'median',
          ),
        );
      }
    }
    report(
      'gateway.ts',
      figures({ top, ceilingCpu, results, variants, rounds, seconds, connections, eventsPerBatch, goals }),
    );
  } catch (err) {
    console.error(err);
    process.exitCode = 1;
  } finally {
    for (const child of children) await child.stop();
    await broker?.stop();
    await rm(scratch, { recursive: true, force: true });
  }
}

/** The figures for `pnpm bench`: the ceiling, and per client and worker count the medians over the rounds. */
function figures(run: {
  top: CannonResult;
  ceilingCpu: Cpu;
  results: ClientResult[];
  variants: { client: KafkaClient; workers: number }[];
  rounds: number;
  seconds: number;
  connections: number;
  eventsPerBatch: number;
  goals: Goals;
}): Figure[] {
  const { top, ceilingCpu, results, variants, rounds, seconds, connections, eventsPerBatch, goals } = run;
  const shape = `${seconds} s runs, ${connections} connections, ${eventsPerBatch}-event batches`;
  const over = rounds > 1 ? `median of ${rounds} rounds; ` : '';
  const out: Figure[] = [
    {
      key: 'gateway.ceiling.events_per_s',
      label: 'Fastify parse-and-drop ceiling',
      value: Math.round(eventsPerSecond(top, eventsPerBatch)),
      unit: 'events/s',
      note: shape,
    },
    {
      key: 'gateway.ceiling.cpu_us_per_event',
      label: 'Fastify parse-and-drop ceiling, CPU per event',
      value: Number(ceilingCpu.perEventUs.toFixed(1)),
      unit: 'µs',
      note: 'all threads, warm-up included',
    },
  ];
  for (const { client, workers } of variants) {
    const mine = results.filter((r) => r.client === client && r.workers === workers);
    const of = (pick: (r: ClientResult) => number) => median(mine.map(pick));
    const each = (pick: (r: ClientResult) => number, digits: number) =>
      rounds > 1 ? `rounds ${mine.map((r) => pick(r).toFixed(digits)).join(', ')}` : undefined;
    // One worker keeps the keys of the runs before workers existed.
    const name = workers === 1 ? client : `${client}.${workers}w`;
    const label = workers === 1 ? `gateway (${client})` : `gateway (${client}, ${workers} workers)`;
    out.push(
      {
        key: `gateway.${name}.events_per_s`,
        label: `${label} → Kafka acks=all`,
        value: Math.round(of((r) => r.eventsPerSecond)),
        unit: 'events/s',
        note: `${over}${shape}`,
      },
      {
        key: `gateway.${name}.cpu_us_per_event`,
        label: `${label} CPU per event, all threads, unthrottled`,
        value: Number(of((r) => r.cpuMax.perEventUs).toFixed(1)),
        unit: 'µs',
        goal: { op: '<=', value: goals.cpuUsPerEvent },
        note: each((r) => r.cpuMax.perEventUs, 1),
      },
      {
        key: `gateway.${name}.cpu_ratio`,
        label: `${label} CPU per event / parse-and-drop ceiling's`,
        value: Number(of((r) => r.cpuRatio).toFixed(1)),
        unit: 'ratio',
        goal: { op: '<=', value: goals.cpuRatio },
        note: each((r) => r.cpuRatio, 1),
      },
      {
        key: `gateway.${name}.half_rate_p99_ms`,
        label: `${label} p99 at half its maximum rate`,
        value: Number(of((r) => r.halfP99).toFixed(1)),
        unit: 'ms',
        goal: { op: '<=', value: goals.p99Ms },
        note: each((r) => r.halfP99, 0),
      },
      {
        key: `gateway.${name}.rss_peak_mb`,
        label: `${label} RSS peak`,
        value: Math.round(of((r) => r.rssPeak) / 1024 / 1024),
        unit: 'MB',
        goal: { op: '<=', value: goals.rssMb },
        note: workers > 1 ? 'the primary and its workers together' : undefined,
      },
      {
        key: `gateway.${name}.cpu_ms_per_request`,
        label: `${label} CPU per request, unthrottled`,
        value: Number(of((r) => r.cpuMax.all).toFixed(2)),
        unit: 'ms',
        note: `all threads; main thread ${of((r) => r.cpuMax.main).toFixed(2)} ms`,
      },
    );
  }
  return out;
}

/** Steps 2 and 3 and the offsets check for one Kafka client and worker count, in a gateway process of its own. */
async function benchGateway(run: {
  client: KafkaClient;
  workers: number;
  topic: string;
  writeKey: string;
  brokers: string[];
  ceilingCpu: Cpu;
  eventsPerBatch: number;
  load: (url: string, overallRate?: number) => Promise<CannonResult>;
  goals: Goals;
  children: Server[];
}): Promise<ClientResult> {
  const { client, workers, topic, writeKey, brokers, ceilingCpu, eventsPerBatch, load, goals, children } =
    run;
  const gatewayPort = await freePort();
  const gateway = await startServer(
    'gateway',
    spawn(process.execPath, [...profile(topic), ...production().cmd.slice(1)], {
      cwd: production().dir,
      env: {
        TIDEMARK_LOG_LEVEL: 'warn',
        ...process.env,
        TIDEMARK_MODE: 'distributed',
        TIDEMARK_PORT: String(gatewayPort),
        TIDEMARK_LISTEN_HOST: '127.0.0.1',
        KAFKA_BROKERS: brokers.join(','),
        TIDEMARK_KAFKA_TOPIC: topic,
        TIDEMARK_KAFKA_DLQ_TOPIC: `${topic}.dlq`,
        TIDEMARK_WRITE_KEYS: `${writeKey}:bench`,
        TIDEMARK_RATE_LIMIT_PER_IP: '0',
        TIDEMARK_RATE_LIMIT_PER_KEY: '0',
        TIDEMARK_KAFKA_CLIENT: client,
        TIDEMARK_GATEWAY_WORKERS: String(workers),
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    }),
    `http://127.0.0.1:${gatewayPort}`,
    '/readyz',
  );
  children.push(gateway);
  if (workers > 1) await allWorkersAnswer(gateway.url, workers);
  const label = `gateway (${client}, ${workers} worker${workers === 1 ? '' : 's'})`;
  const before = await usage(gateway, 'gateway');
  const max = await measure(gateway, () => load(gateway.url));
  const afterMax = await usage(gateway, 'gateway');
  const cpuMax = cpuPerRequest(before, afterMax);
  console.log(line(`${label} → Kafka (acks=all)`, max, eventsPerBatch));
  const cpuRatio = cpuMax.perEventUs / ceilingCpu.perEventUs;
  console.log(
    `  CPU per event, all threads: ${us(cpuMax.perEventUs)} (goal ≤ ${goals.cpuUsPerEvent} µs), ` +
      `${cpuRatio.toFixed(1)}× the ceiling's ${us(ceilingCpu.perEventUs)} (goal ≤ ${goals.cpuRatio}×)`,
  );

  const halfRate = Math.max(1, Math.round(max.requests.total / max.duration / 2));
  const half = await measure(gateway, () => load(gateway.url, halfRate));
  const cpuHalf = cpuPerRequest(afterMax, await usage(gateway, 'gateway'));
  console.log(line(`${label} at half that, ${halfRate} req/s`, half, eventsPerBatch));
  console.log(
    `  CPU per request, all threads (main thread): unthrottled ${cpuText(cpuMax)}, at half the rate ${cpuText(cpuHalf)}`,
  );
  const rssPeak = Math.max(max.rssPeak, half.rssPeak, gateway.hwm());
  console.log(
    `  goals: p99 at half the maximum ${ms(half.latency.p99)} (goal ≤ ${goals.p99Ms} ms)   ` +
      `gateway RSS peak ${mb(rssPeak)} (goal ≤ ${goals.rssMb} MB)`,
  );

  // What the gateway says it made durable, against what the topic holds.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
  await gateway.stop();
  const accepted = metricSum(metrics, 'tidemark_gateway_events_accepted_total');
  const shed = metricLines(metrics, 'tidemark_gateway_shed_total');
  const produceMs =
    (metricSum(metrics, 'tidemark_gateway_produce_duration_seconds_sum') * 1000) /
    metricSum(metrics, 'tidemark_gateway_produce_duration_seconds_count');
  const kafka = new Kafka({ clientId: 'tidemark-bench', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const count = async (t: string) =>
    (await admin.fetchTopicOffsets(t)).reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  const [messages, deadLetters] = [await count(topic), await count(`${topic}.dlq`)];
  await admin.disconnect();
  // Each body is one visitor's batch, which the gateway writes as one message of eventsPerBatch rows.
  const expected = accepted / eventsPerBatch;
  console.log(
    `  topic ${topic}: ${messages} messages (${messages * eventsPerBatch} events), dead letters ${deadLetters}; ` +
      `gateway accepted ${accepted} events (warm-up included) = ${expected} messages: ` +
      `${messages === expected ? 'match' : 'MISMATCH'}\n` +
      `  gateway shed: ${shed.length > 0 ? shed.join(', ') : 'none'}; ` +
      `mean wait for Kafka's acks per request ${ms(produceMs)} (all runs)`,
  );
  return {
    client,
    workers,
    eventsPerSecond: eventsPerSecond(max, eventsPerBatch),
    cpuRatio,
    halfP99: half.latency.p99,
    rssPeak,
    cpuMax,
    cpuHalf,
    match: messages === expected,
  };
}

/**
 * Waits until `workers` workers have answered on the gateway's port: /readyz answers once the first listens,
 * and the others start after it. Each probe is a connection of its own, which the primary hands to the next
 * worker; the summed metrics count answers by worker.
 */
async function allWorkersAnswer(url: string, workers: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    await new Promise<void>((resolve) =>
      http
        .get(`${url}/healthz`, { agent: false }, (response) => response.resume().on('end', resolve))
        .on('error', () => resolve()),
    );
    const metrics = await (await fetch(`${url}/metrics`)).text();
    if (metricLines(metrics, 'tidemark_gateway_worker_requests_total').length >= workers) return;
    if (Date.now() > deadline) throw new Error(`${workers} gateway workers did not all answer within 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** A server in a child process, its address and its memory. */
interface Server {
  url: string;
  /** The child's process id (its main thread's id too). */
  pid: number;
  /** Resident set size now, bytes (0 once it has exited). */
  rss(): number;
  /** Peak resident set size since it started (VmHWM), bytes. */
  hwm(): number;
  /** SIGTERM (the gateway closes gracefully), SIGKILL after 15 s; safe to call twice. */
  stop(): Promise<void>;
}

/** Waits until `probe` answers 200 (any answer for `/`), or fails if the child exits first. */
async function startServer(name: string, child: ChildProcess, url: string, probe: string): Promise<Server> {
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // A benchmark that dies without stop() must not leave a server behind holding its port.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  // Summed over the child and the workers it started, if any.
  const status = (field: string) => async () => {
    let bytes = 0;
    for (const pid of await processTree(child.pid ?? 0)) {
      const text = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
      bytes += Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(text)?.[1] ?? 0) * 1024;
    }
    return bytes;
  };
  let rss = 0;
  let hwm = 0;
  const readRss = status('VmRSS');
  const readHwm = status('VmHWM');
  const sampler = setInterval(async () => {
    rss = await readRss();
    hwm = (await readHwm()) || hwm;
  }, 100);
  let stopping: Promise<void> | undefined;
  const server: Server = {
    url,
    pid: child.pid ?? 0,
    rss: () => rss,
    hwm: () => hwm,
    stop() {
      stopping ??= (async () => {
        clearInterval(sampler);
        process.off('exit', killOnExit);
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await server.stop();
      throw new Error(
        `${name} exited before it was ready (code ${child.exitCode}, signal ${child.signalCode})`,
      );
    }
    const response = await fetch(`${url}${probe}`).catch(() => undefined);
    if (response && (probe === '/' || response.ok)) break;
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`${name} not ready at ${url}${probe} within 60 s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return server;
}

/** CPU time of a server, all threads and the main thread, against the batch requests and events it had taken. */
interface Usage {
  allMs: number;
  mainMs: number;
  requests: number;
  events: number;
}
/** CPU per batch request (ms) and per event (µs) between two usages. */
interface Cpu {
  all: number;
  main: number;
  requests: number;
  /** All threads, µs per event. */
  perEventUs: number;
}

const clockTicksPerSecond = Number(execSync('getconf CLK_TCK').toString().trim()) || 100;

/** utime + stime of a /proc stat file, in ms (fields 14 and 15, counted after the parenthesized name). */
async function cpuMs(file: string): Promise<number> {
  const text = await readFile(file, 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicksPerSecond;
}

/** A process and its descendants (a gateway's cluster workers), from /proc/<pid>/task/<tid>/children. */
async function processTree(pid: number): Promise<number[]> {
  const tasks = await readdir(`/proc/${pid}/task`).catch(() => []);
  const children: number[] = [];
  for (const task of tasks) {
    const text = await readFile(`/proc/${pid}/task/${task}/children`, 'utf8').catch(() => '');
    for (const child of text.split(' ').filter(Boolean)) children.push(...(await processTree(Number(child))));
  }
  return [pid, ...children];
}

/**
 * The server's CPU so far, summed over its process and any workers it started, and what it has taken in: the
 * gateway's metrics (its primary serves them summed over the workers), or the ceiling's event count.
 */
async function usage(server: Server, kind: 'gateway' | 'ceiling'): Promise<Usage> {
  let requests: number;
  let events: number;
  if (kind === 'ceiling') {
    events = ((await (await fetch(`${server.url}/events`)).json()) as { events: number }).events;
    requests = 0;
  } else {
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    requests = metricLines(metrics, 'tidemark_gateway_requests_total')
      .filter((l) => l.includes('/v1/batch'))
      .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
    events = metricSum(metrics, 'tidemark_gateway_events_accepted_total');
  }
  const pids = await processTree(server.pid);
  let allMs = 0;
  let mainMs = 0;
  for (const pid of pids) {
    allMs += await cpuMs(`/proc/${pid}/stat`).catch(() => 0);
    mainMs += await cpuMs(`/proc/${pid}/task/${pid}/stat`).catch(() => 0);
  }
  return { allMs, mainMs, requests, events };
}

function cpuPerRequest(from: Usage, to: Usage): Cpu {
  const requests = Math.max(1, to.requests - from.requests);
  const events = Math.max(1, to.events - from.events);
  return {
    all: (to.allMs - from.allMs) / requests,
    main: (to.mainMs - from.mainMs) / requests,
    requests,
    perEventUs: ((to.allMs - from.allMs) * 1000) / events,
  };
}

const us = (value: number) => `${value.toFixed(1)} µs`;
const cpuText = (cpu: Cpu) => `${cpu.all.toFixed(2)} ms (${cpu.main.toFixed(2)} ms)`;

/** Runs one load and keeps the server's peak RSS while it ran (warm-up included). */
async function measure(
  server: Server,
  run: () => Promise<CannonResult>,
): Promise<CannonResult & { rssPeak: number }> {
  let rssPeak = server.rss();
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, server.rss());
  }, 100);
  try {
    const result = await run();
    return { ...result, rssPeak: Math.max(rssPeak, server.rss()) };
  } finally {
    clearInterval(sampler);
  }
}

/** Events made it in per second: only 2xx answers count, so a fast 503 is not throughput. */
function eventsPerSecond(result: CannonResult, eventsPerBatch: number): number {
  return (result['2xx'] / result.duration) * eventsPerBatch;
}

function line(label: string, r: CannonResult & { rssPeak: number }, eventsPerBatch: number): string {
  const codes = Object.entries(r.statusCodeStats)
    .filter(([code]) => !code.startsWith('2'))
    .map(([code, { count }]) => `${code}×${count}`);
  const non2xx = r['1xx'] + r['3xx'] + r['4xx'] + r['5xx'];
  return (
    `  ${`${label}:`.padEnd(45)}${Math.round(eventsPerSecond(r, eventsPerBatch)).toLocaleString('en-US').padStart(9)} events/s ` +
    `${(r.requests.total / r.duration).toFixed(0).padStart(6)} req/s   ` +
    `p50 ${ms(r.latency.p50)}, p99 ${ms(r.latency.p99)}, max ${ms(r.latency.max)}   RSS peak ${mb(r.rssPeak)}\n` +
    `  ${''.padEnd(45)}2xx ${r['2xx']}, 4xx ${r['4xx']}, 5xx ${r['5xx']}, non-2xx ${non2xx}` +
    `${codes.length > 0 ? ` (${codes.join(', ')})` : ''}, errors ${r.errors}, timeouts ${r.timeouts}`
  );
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

const ms = (value: number) => `${value.toFixed(value < 10 ? 1 : 0)} ms`;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

/** Prometheus text lines of one metric, without the comments. */
function metricLines(text: string, name: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
}

function metricSum(text: string, name: string): number {
  return metricLines(text, name).reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

// Last, once every constant above is initialized.
await bench();
