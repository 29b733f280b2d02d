// Process faults under load (issue 8): the gateway and the sink killed with SIGKILL and restarted, the broker
// stopped and restarted, the broker frozen, ClickHouse failing; and the soak. Each runs the whole pipeline
// (chaos/harness.ts) under the SDK-like load (chaos/load.ts) and counts the end against ClickHouse
// (chaos/count.ts). The short versions are what CI runs (test/chaos-faults.test.ts).

import { logLines, sampleProcess } from '../../harness/processes.js';
import {
  type BrokerControl,
  type Harness,
  type HarnessOptions,
  type Service,
  startHarness,
} from '../harness.js';
import { type Answer, type Load, type LoadSummary, startLoad } from '../load.js';
import type { DeliveryResult, Scenario, ScenarioOptions } from '../report.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** How long after a fault's end the load got its first 2xx, and everything acknowledged by then was stored. */
export interface Recovery {
  okMs: number;
  freshMs: number;
}

/** What a fault plan did, for the result. */
export interface Applied {
  faults: number;
  recoveries: Recovery[];
  notes: string[];
  /** Checks that failed: the fault did not show as it must (e.g. no 503 while the broker was down). */
  failed: string[];
}

/** Measures a recovery from `faultEnd`: the first 2xx at or after it, then freshness in ClickHouse. */
export async function recover(harness: Harness, load: Load, faultEnd: number): Promise<Recovery> {
  const deadline = Date.now() + 180_000;
  let ok = load.firstAckAfter(faultEnd);
  while (ok === undefined && Date.now() < deadline) {
    await sleep(100);
    ok = load.firstAckAfter(faultEnd);
  }
  if (ok === undefined) throw new Error('no 2xx within 180 s of the fault’s end');
  const fresh = await harness.waitFresh();
  return { okMs: ok - faultEnd, freshMs: fresh - faultEnd };
}

/** Answers by status (`0` = no answer) within [from, to). */
export function statusesBetween(
  answers: readonly Answer[],
  from: number,
  to: number,
): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { at, status } of answers) {
    if (at >= from && at < to) counts[String(status)] = (counts[String(status)] ?? 0) + 1;
  }
  return counts;
}

/** SIGKILLs the service, starts it again at once (a supervisor's restart) and measures the recovery from the kill. */
async function killAndRestart(harness: Harness, service: Service, load: Load): Promise<Recovery> {
  await service.kill();
  const killedAt = Date.now();
  await service.start();
  return recover(harness, load, killedAt);
}

/** The checks of a kill scenario: every one of `kills` processes of the service died of SIGKILL. */
export function killsLanded(
  service: Service,
  kills: number,
  name: string,
): { killed: number; failed: string[] } {
  const killed = service.history.filter((run) => run.process.signalCode === 'SIGKILL').length;
  return { killed, failed: killed === kills ? [] : [`${killed} of ${kills} ${name} died of SIGKILL`] };
}

/** The harness's own broker, which a broker scenario stops or freezes. */
function ownBroker(harness: Harness, scenario: string): BrokerControl {
  if (!harness.broker) throw new Error(`${scenario} needs the harness’s own broker`);
  return harness.broker;
}

/** Answers other than 503 or none while the broker was `state`: each a lie about durability or a wrong status. */
export function besides503(during: Record<string, number>, state: string): string[] {
  const wrong = Object.keys(during).filter((status) => status !== '503' && status !== '0');
  return wrong.length ? [`answers other than 503 while the broker was ${state}: ${wrong.join(', ')}`] : [];
}

export interface Plan {
  /** e.g. `gateway SIGKILL ×3`. */
  label: string;
  harness: Omit<HarnessOptions, 'brokers' | 'log'>;
  /** The scenario needs a broker (or, with `harness.clusterNodes`, a cluster) of its own: it hurts it. */
  ownBroker?: boolean;
  /** Events per second. Default 200. */
  rate?: number;
  /** Default 20. */
  visitors?: number;
  /** Load before the first fault. Default 5 s. */
  warmupMs?: number;
  act(harness: Harness, load: Load, log: (line: string) => void): Promise<Applied>;
  /** Load after the last recovery. Default 3 s. */
  tailMs?: number;
}

/** Starts the pipeline and the load, applies the plan's faults, stops the load and counts. */
export async function runPlan(plan: Plan, options: ScenarioOptions): Promise<DeliveryResult> {
  const { rate = 200, visitors = 20, warmupMs = 5_000, tailMs = 3_000 } = plan;
  const log = options.log ?? ((line: string) => console.log(line));
  const started = Date.now();
  const harness = await startHarness({
    ...plan.harness,
    ...(plan.ownBroker || plan.harness.clusterNodes || !options.brokers ? {} : { brokers: options.brokers }),
    log,
  });
  try {
    const from = new Date(Date.now() - 60_000);
    const load = startLoad({
      url: harness.gatewayUrls,
      writeKey: harness.writeKey,
      rate,
      visitors,
    });
    let applied: Applied;
    let summary: LoadSummary;
    try {
      await sleep(warmupMs);
      applied = await plan.act(harness, load, log);
      await sleep(tailMs);
    } finally {
      // Also after a failed plan: the visitors must not go on sending into a pipeline that is being stopped.
      summary = await load.stop();
      log(
        `${plan.label}: load stopped, ${summary.acked.size} of ${summary.generated} events acknowledged, ` +
          `answers ${JSON.stringify(summary.statuses)}`,
      );
    }
    const counts = await harness.count(summary.acked.keys(), { from, to: new Date(Date.now() + 60_000) });
    // A lost event in the topic was skipped by the sink; one absent from it, Kafka lost after acknowledging it.
    const lostIds = counts.allLostIds;
    // Stored ids looked up beside them show the lookup itself finds what is there.
    const control = [...summary.acked.keys()].filter((id) => !lostIds.includes(id)).slice(0, 3);
    const inTopic = lostIds.length ? await harness.findInTopic([...lostIds, ...control]) : new Map();
    const ackTimes = lostIds.map((id) => summary.acked.get(id) ?? 0).sort((a, b) => a - b);
    const whereLost = lostIds.length
      ? [
          `lost ids in the topic: ${lostIds.filter((id) => inTopic.has(id)).length} of ${lostIds.length} ` +
            `(control: ${control.filter((id) => inTopic.has(id)).length} of ${control.length} stored ids found), ` +
            `acknowledged ${new Date(ackTimes[0] ?? 0).toISOString()} … ${new Date(ackTimes.at(-1) ?? 0).toISOString()}`,
        ]
      : [];
    const recoveryMs = applied.recoveries.length
      ? Math.max(...applied.recoveries.map((r) => r.freshMs))
      : undefined;
    const failed = [...applied.failed];
    if (summary.unsent > 0) failed.push(`${summary.unsent} events never acknowledged`);
    if (summary.refused > 0) failed.push(`${summary.refused} valid events refused by the gateway`);
    return {
      scenario: plan.label,
      faults: applied.faults,
      sent: counts.sent,
      stored: counts.stored,
      lost: counts.lost,
      doubled: counts.doubled,
      rawDuplicates: counts.rawDuplicates,
      renumbered: counts.renumbered,
      counted: counts.counted,
      ...(recoveryMs === undefined ? {} : { recoveryMs }),
      durationMs: Date.now() - started,
      notes: [
        `rate: ${rate} events/s from ${visitors} visitors`,
        `answers: ${JSON.stringify(summary.statuses)}, ${summary.resends} resends`,
        ...applied.recoveries.map(
          (r, i) =>
            `recovery ${i + 1}: first 2xx after ${seconds(r.okMs)}, fresh after ${seconds(r.freshMs)}`,
        ),
        `stored but never acknowledged: ${counts.unacknowledgedStored}`,
        ...(counts.lostIds.length
          ? [`lost ids (first ${counts.lostIds.length}): ${counts.lostIds.join(' ')}`]
          : []),
        ...whereLost,
        ...applied.notes,
      ],
      ...(failed.length ? { failed } : {}),
    };
  } finally {
    await harness.stop();
  }
}

/** The gateway killed with SIGKILL under load, and restarted at once (a supervisor's restart), several times. */
export const gatewayKills: Scenario<DeliveryResult> = (options) => {
  const kills = options.short ? 3 : 6;
  const spacingMs = options.short ? 12_000 : 20_000;
  return runPlan(
    {
      label: `gateway SIGKILL ×${kills}`,
      harness: {},
      async act(harness, load, log) {
        const recoveries: Recovery[] = [];
        for (let k = 0; k < kills; k++) {
          // Somewhere inside the spacing, so the kill lands in different moments of requests and produces.
          await sleep(Math.random() * spacingMs * 0.5);
          const recovery = await killAndRestart(harness, harness.gateway, load);
          log(
            `gateway kill ${k + 1}: 2xx after ${seconds(recovery.okMs)}, fresh after ${seconds(recovery.freshMs)}`,
          );
          recoveries.push(recovery);
          await sleep(Math.max(0, spacingMs * 0.5 - recovery.freshMs));
        }
        const { killed, failed } = killsLanded(harness.gateway, kills, 'gateways');
        return {
          faults: killed,
          recoveries,
          notes: [`gateway processes: ${harness.gateway.history.length}`],
          failed,
        };
      },
    },
    options,
  );
};

/** The sink (chDB inside it) killed with SIGKILL under load and restarted on the same data, several times. */
export const sinkKills: Scenario<DeliveryResult> = (options) => {
  const kills = options.short ? 3 : 6;
  const spacingMs = options.short ? 15_000 : 20_000;
  return runPlan(
    {
      label: `sink SIGKILL ×${kills}`,
      harness: { sinkEnv: { TIDEMARK_SINK_MAX_ROWS: '2000' } },
      rate: 300,
      async act(harness, load, log) {
        const recoveries: Recovery[] = [];
        for (let k = 0; k < kills; k++) {
          await sleep(500 + Math.random() * 2_500);
          const recovery = await killAndRestart(harness, harness.sink, load);
          log(`sink kill ${k + 1}: fresh after ${seconds(recovery.freshMs)}`);
          recoveries.push(recovery);
          await sleep(Math.max(0, spacingMs - recovery.freshMs - 1_500));
        }
        const runs = harness.sink.history;
        const { killed, failed } = killsLanded(harness.sink, kills, 'sinks');
        const replayed = runs.flatMap((run) => logLines(run, 'replaying an announced flush')).length;
        const reinserted = runs.flatMap((run) =>
          logLines(run, 'rows missing although ClickHouse took their token; inserting them again'),
        ).length;
        return {
          faults: killed,
          recoveries,
          notes: [
            `announced flushes replayed: ${replayed}`,
            `flushes found short and inserted again: ${reinserted}`,
          ],
          failed,
        };
      },
    },
    options,
  );
};

/** The broker stopped (a clean shutdown) and started again on the same port and data; the gateway must say 503. */
export const brokerRestart: Scenario<DeliveryResult> = (options) => {
  const downMs = options.short ? 10_000 : 30_000;
  return runPlan(
    {
      label: `broker stop ${seconds(downMs).replace('.0', '')} + restart`,
      harness: {},
      ownBroker: true,
      async act(harness, load, log) {
        const broker = ownBroker(harness, 'brokerRestart');
        const stopping = Date.now();
        await broker.stop();
        const stopped = Date.now();
        await sleep(downMs);
        const restarting = Date.now();
        await broker.start();
        const restarted = Date.now();
        // Answers that came while no broker ran: a 2xx among them would be a lie about durability. A second
        // of margin for requests Kafka acknowledged just before the stop.
        const down = statusesBetween(load.answers, stopped + 1_000, restarting);
        const recovery = await recover(harness, load, restarted);
        log(`broker: stopped in ${seconds(stopped - stopping)}, answers while down ${JSON.stringify(down)}`);
        const failed = [
          ...(down['503'] ? [] : ['no 503 while the broker was down']),
          ...besides503(down, 'down'),
        ];
        return {
          faults: 1,
          recoveries: [recovery],
          notes: [
            `answers while the broker was down: ${JSON.stringify(down)}`,
            `broker start: ${seconds(restarted - restarting)}`,
          ],
          failed,
        };
      },
    },
    options,
  );
};

/** The broker frozen with SIGSTOP (sockets open, nothing answered) and resumed. */
export const brokerFreeze: Scenario<DeliveryResult> = (options) => {
  const frozenMs = options.short ? 20_000 : 30_000;
  return runPlan(
    {
      label: `broker SIGSTOP ${seconds(frozenMs).replace('.0', '')}`,
      harness: {},
      ownBroker: true,
      async act(harness, load, log) {
        const broker = ownBroker(harness, 'brokerFreeze');
        broker.freeze();
        const frozen = Date.now();
        await sleep(frozenMs);
        broker.thaw();
        const thawed = Date.now();
        const during = statusesBetween(load.answers, frozen + 1_000, thawed);
        const recovery = await recover(harness, load, thawed);
        log(`broker frozen ${seconds(thawed - frozen)}: answers meanwhile ${JSON.stringify(during)}`);
        return {
          faults: 1,
          recoveries: [recovery],
          notes: [`answers while the broker was frozen: ${JSON.stringify(during)}`],
          failed: besides503(during, 'frozen'),
        };
      },
    },
    options,
  );
};

/**
 * ClickHouse failing for a while: the server hangs first (SIGSTOP: the sink's insert waits on a socket that
 * never answers), then dies (SIGKILL: connections refused), and comes back on the same port and data. The two
 * halves exercise the sink's two failure paths, a timeout and a refused connection.
 */
export const clickhouseOutage: Scenario<DeliveryResult> = (options) => {
  const outageMs = options.short ? 10_000 : 30_000;
  return runPlan(
    {
      label: `ClickHouse down ${seconds(outageMs).replace('.0', '')} (hung, then refused)`,
      harness: { clickhouse: 'http' },
      async act(harness, load, log) {
        const clickhouse = harness.clickhouse;
        if (!clickhouse) throw new Error('clickhouseOutage needs the ClickHouse process');
        const began = Date.now();
        clickhouse.freeze();
        await sleep(outageMs / 2);
        await clickhouse.kill();
        await sleep(outageMs / 2);
        await clickhouse.start();
        const back = Date.now();
        const during = statusesBetween(load.answers, began, back);
        const recovery = await recover(harness, load, back);
        const failures = harness.sink.history.flatMap((run) => logLines(run, 'insert failed')).length;
        log(
          `ClickHouse down ${seconds(back - began)}: ${failures} failed inserts, answers ${JSON.stringify(during)}`,
        );
        return {
          faults: 1,
          recoveries: [recovery],
          notes: [
            `failed insert attempts logged by the sink: ${failures}`,
            `answers while ClickHouse was down: ${JSON.stringify(during)}`,
          ],
          failed: failures > 0 ? [] : ['the sink logged no failed insert: ClickHouse never failed for it'],
        };
      },
    },
    options,
  );
};

/** One soak sample. */
interface Sample {
  at: number;
  gatewayRssMb?: number;
  /** The gateway's open files other than sockets; its sockets are sampled apart. */
  gatewayFds?: number;
  gatewaySockets?: number;
  sinkRssMb?: number;
  /** The sink's open files other than ClickHouse's per-thread /proc files (see `ProcessSample.procFds`). */
  sinkFds?: number;
  sinkProcFds?: number;
  sinkThreads?: number;
  lag?: number;
  freshnessMs: number;
}

/**
 * Freshness goal, judged at the 95th percentile of the samples: everything acknowledged is queryable within this.
 * The README states none; the sink flushes every 500 ms here, so 10 s leaves room for a merge or a busy machine
 * (one 1-minute CI soak here saw a worst sample of 9.0 s while three other engineers ran benchmarks).
 */
const FRESHNESS_GOAL_MS = 10_000;

/**
 * Mean of the last third of the samples against the first third, after a warm-up fifth is left out (the JIT,
 * the heap's first growth and the first flushes belong to starting, not to leaking). "Flat" means RSS grew by at
 * most 20 % or 15 MB, the floor of open files (the fewest in a third) by at most 5, and the lag's last-third mean
 * stays under 5 s of events. Open files are judged by their floor, not their mean: while chDB writes or merges a
 * part it holds the part's column and index files open, with pipes and eventfds of its own (a soak's sink went
 * from 70 to 100 open files for under half a second), so a sample that falls inside one counts some 30 more (a CI
 * soak's sink averaged 33 → 40.3 in its last third that way), while a leak raises the floor itself. The
 * gateway's sockets are reported, not judged: they follow the clients' keep-alive connections at the moment of
 * the sample (a 10-minute soak swung between 51 and 77 open files with 30 visitors). The sink's
 * files under /proc and its threads are reported, not judged: chDB keeps three /proc files open per pool thread,
 * and its pools keep the most threads they ever needed at once, so both step up when inserts and merges happen to
 * coincide (a minute's soak saw 11 → 52 threads) without anything leaking per event or per request.
 */
function judgeFlat(samples: Sample[], rate: number): { notes: string[]; failed: string[] } {
  const steady = samples.slice(Math.floor(samples.length / 5));
  const third = Math.max(1, Math.floor(steady.length / 3));
  const aggregates = {
    mean: (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length,
    floor: (values: number[]) => Math.min(...values),
  };
  const notes: string[] = [];
  const failed: string[] = [];
  const compare = (
    name: string,
    pick: (s: Sample) => number | undefined,
    isFlat: (a: number, b: number) => boolean,
    of: keyof typeof aggregates = 'mean',
  ) => {
    const aggregate = (list: Sample[]) => {
      const values = list.map(pick).filter((v): v is number => v !== undefined && Number.isFinite(v));
      return values.length ? aggregates[of](values) : Number.NaN;
    };
    const first = aggregate(steady.slice(0, third));
    const last = aggregate(steady.slice(-third));
    const flat = isFlat(first, last);
    notes.push(
      `${name}: ${first.toFixed(1)} → ${last.toFixed(1)} (${of} of the first third → of the last third)${flat ? '' : ' NOT FLAT'}`,
    );
    if (!flat) failed.push(`${name} grew: ${first.toFixed(1)} → ${last.toFixed(1)}`);
  };
  const rss = (a: number, b: number) => b - a <= Math.max(0.2 * a, 15);
  const fds = (a: number, b: number) => b - a <= 5;
  compare('gateway RSS MB', (s) => s.gatewayRssMb, rss);
  compare('sink RSS MB', (s) => s.sinkRssMb, rss);
  compare('gateway open fds (but sockets)', (s) => s.gatewayFds, fds, 'floor');
  compare(
    'gateway sockets (reported only)',
    (s) => s.gatewaySockets,
    () => true,
  );
  compare('sink open fds (but /proc)', (s) => s.sinkFds, fds, 'floor');
  compare(
    'Kafka lag (messages)',
    (s) => s.lag,
    (_, b) => b <= rate * 5,
  );
  compare(
    'sink /proc files (reported only)',
    (s) => s.sinkProcFds,
    () => true,
  );
  compare(
    'sink threads (reported only)',
    (s) => s.sinkThreads,
    () => true,
  );
  const sorted = samples.map((s) => s.freshnessMs).sort((a, b) => a - b);
  const p95 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))] ?? 0;
  const worst = sorted.at(-1) ?? 0;
  notes.push(
    `freshness: p95 ${seconds(p95)}, worst ${seconds(worst)}, goal p95 ≤ ${seconds(FRESHNESS_GOAL_MS)}`,
  );
  if (p95 > FRESHNESS_GOAL_MS) failed.push(`freshness p95 ${seconds(p95)} over the goal`);
  return { notes, failed };
}

/**
 * A steady moderate load for 10 minutes (1 in short mode), sampling every 5 s the gateway's and the sink's RSS
 * and open files (/proc), the group's lag and freshness (how long until everything acknowledged at the sample's
 * moment is in ClickHouse).
 */
export const soak: Scenario<DeliveryResult> = (options) => {
  const durationMs = options.short ? 60_000 : 600_000;
  const rate = 150;
  return runPlan(
    {
      label: `soak ${options.short ? '1 min' : '10 min'}`,
      harness: {},
      rate,
      visitors: 30,
      warmupMs: 0,
      tailMs: 0,
      async act(harness, _load, log) {
        const samples: Sample[] = [];
        const end = Date.now() + durationMs;
        while (Date.now() < end) {
          const at = Date.now();
          const [gateway, sink, lag] = await Promise.all([
            sampleProcess(harness.gateway.current.process.pid),
            sampleProcess(harness.sink.current.process.pid),
            harness.lag(),
          ]);
          const freshnessMs = (await harness.waitFresh()) - at;
          const sample: Sample = {
            at,
            gatewayRssMb: gateway?.rssMb,
            gatewayFds: gateway ? gateway.fds - gateway.sockets : undefined,
            gatewaySockets: gateway?.sockets,
            sinkRssMb: sink?.rssMb,
            sinkFds: sink ? sink.fds - sink.procFds : undefined,
            sinkProcFds: sink?.procFds,
            sinkThreads: sink?.threads,
            lag,
            freshnessMs,
          };
          samples.push(sample);
          if (samples.length % 12 === 1) log(`soak: ${JSON.stringify(sample)}`);
          await sleep(Math.max(0, at + 5_000 - Date.now()));
        }
        const { notes, failed } = judgeFlat(samples, rate);
        return { faults: 0, recoveries: [], notes: [`samples: ${samples.length}`, ...notes], failed };
      },
    },
    options,
  );
};
