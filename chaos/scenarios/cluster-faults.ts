// Faults of a replicated Kafka cluster under load (issue 23): three KRaft nodes of the harness's own (replication
// factor 3, min.insync.replicas 2, unclean leader election off), the gateways and sinks as processes, the load as
// browsers send it, and every scenario counted at the end: acknowledged against stored, with and without FINAL
// (chaos/count.ts through runPlan). The short versions are what CI runs (test/chaos-cluster.test.ts).
import { Kafka, logLevel } from 'kafkajs';
import { logLines } from '../../harness/processes.js';
import type { KafkaCluster } from '../../scripts/kafka.mjs';
import type { Harness } from '../harness.js';
import type { DeliveryResult, Scenario } from '../report.js';
import {
  type Applied,
  besides503,
  killsLanded,
  type Recovery,
  recover,
  runPlan,
  statusesBetween,
} from './process-faults.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const NODES = 3;

/** One partition of the run's topic as the cluster describes it now. */
interface PartitionState {
  partition: number;
  /** Node id of the leader (index + 1), -1 while there is none. */
  leader: number;
  replicas: number[];
  isr: number[];
  /** Its end offset: how many messages it took. */
  high: number;
}

/**
 * Asks every node at once, each through a client that knows only that node, and takes the first answer;
 * undefined while none answers (two nodes down, or no live node that knows the leaders yet). Not one client
 * seeded with every node: kafkajs sends its metadata requests to a connected broker it picks at random, and a
 * SIGSTOPped node's sockets stay connected, so such a client kept timing out on the frozen node for the whole
 * freeze while the live nodes already reported the new leaders.
 */
async function describeTopic(harness: Harness): Promise<PartitionState[] | undefined> {
  return Promise.any(harness.brokers.map((broker) => describeTopicAt(harness, broker))).catch(
    () => undefined,
  );
}

/** The topic as one node describes it; rejects when that node (or a leader it names) does not answer. */
async function describeTopicAt(harness: Harness, broker: string): Promise<PartitionState[]> {
  const kafka = new Kafka({
    clientId: 'tidemark-chaos-cluster',
    brokers: [broker],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2_000,
    requestTimeout: 5_000,
    retry: { retries: 1, initialRetryTime: 200 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const [metadata] = (await admin.fetchTopicMetadata({ topics: [harness.topic] })).topics;
    const offsets = await admin.fetchTopicOffsets(harness.topic);
    return (metadata?.partitions ?? []).map((p) => ({
      partition: p.partitionId,
      leader: p.leader,
      replicas: p.replicas,
      isr: p.isr,
      high: Number(offsets.find((o) => o.partition === p.partitionId)?.high ?? 0),
    }));
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/** Polls `describeTopic` until `done` holds; the state that satisfied it, or undefined at the deadline. */
async function waitForTopic(
  harness: Harness,
  done: (parts: PartitionState[]) => boolean,
  timeoutMs: number,
): Promise<PartitionState[] | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const parts = await describeTopic(harness);
    if (parts?.length && done(parts)) return parts;
    await sleep(500);
  }
  return undefined;
}

const fullIsr = (parts: PartitionState[]) => parts.every((p) => p.isr.length === p.replicas.length);

/** The partition that took the most messages, and its leader: the node whose loss hurts the load most. */
async function busiest(harness: Harness): Promise<PartitionState> {
  const parts = await waitForTopic(harness, (ps) => ps.every((p) => p.leader > 0), 60_000);
  const top = parts?.reduce((a, b) => (b.high > a.high ? b : a));
  if (!top) throw new Error('the cluster named no leader for every partition within 60 s');
  return top;
}

function clusterOf(harness: Harness): KafkaCluster {
  if (!harness.cluster) throw new Error('a cluster scenario needs the harness’s own cluster');
  return harness.cluster;
}

/** Waits until every replica is back in sync (so the next fault starts from a healthy cluster), and says how long. */
async function resync(harness: Harness, from: number): Promise<string> {
  const parts = await waitForTopic(harness, fullIsr, 180_000);
  if (!parts) throw new Error('the replicas were not all back in sync within 180 s');
  return `all replicas in sync ${seconds(Date.now() - from)} after the fault`;
}

const recoveryNote = (r: Recovery) => `first 2xx after ${seconds(r.okMs)}, fresh after ${seconds(r.freshMs)}`;

/**
 * SIGKILL the leader of the busiest partition under load, keep it down, and start it again: the other two
 * nodes elect new leaders from the in-sync replicas and keep taking writes (min in-sync 2 still met), and the
 * killed node comes back, truncates what it had not replicated, and catches up.
 */
export const clusterLeaderKill: Scenario<DeliveryResult> = (options) => {
  const kills = options.short ? 1 : 3;
  const downMs = options.short ? 20_000 : 30_000;
  return runPlan(
    {
      label: `cluster: busiest leader SIGKILL ×${kills}, ${seconds(downMs)} down each`,
      harness: { clusterNodes: NODES },
      async act(harness, load, log) {
        const cluster = clusterOf(harness);
        const recoveries: Recovery[] = [];
        const notes: string[] = [];
        const failed: string[] = [];
        for (let k = 0; k < kills; k++) {
          const target = await busiest(harness);
          const index = target.leader - 1;
          await cluster.killNode(index);
          const killed = Date.now();
          // A new leader for the partition, elected from the other in-sync replicas (never an unclean one).
          const moved = await waitForTopic(
            harness,
            (ps) => {
              const leader = ps.find((p) => p.partition === target.partition)?.leader ?? -1;
              return leader > 0 && leader !== target.leader;
            },
            downMs,
          );
          const movedMs = Date.now() - killed;
          await sleep(Math.max(0, killed + downMs - Date.now()));
          const down = statusesBetween(load.answers, killed, Date.now());
          const restarting = Date.now();
          await cluster.startNode(index);
          const recovery = await recover(harness, load, killed);
          recoveries.push(recovery);
          const synced = await resync(harness, killed);
          const line =
            `kill ${k + 1}: node ${target.leader} (leader of partition ${target.partition}, ${target.high} messages); ` +
            `${moved ? `new leader after ${seconds(movedMs)}` : 'NO new leader'}; answers while down ` +
            `${JSON.stringify(down)}; restarted in ${seconds(Date.now() - restarting)}; ${recoveryNote(recovery)}; ${synced}`;
          log(line);
          notes.push(line);
          if (!moved)
            failed.push(
              `kill ${k + 1}: no new leader for partition ${target.partition} while node ${target.leader} was down`,
            );
          // Two of three nodes keep min in-sync 2: writes must go on while one is down.
          if (!Object.keys(down).some((s) => s.startsWith('2'))) {
            failed.push(`kill ${k + 1}: no 2xx while one of three nodes was down`);
          }
        }
        return { faults: kills, recoveries, notes, failed };
      },
    },
    options,
  );
};

/**
 * SIGKILL two of three nodes at once: fewer in-sync replicas than min.insync.replicas (and, with combined roles, no
 * controller quorum either), so no write can be acknowledged by all in-sync replicas; the gateway must answer 503
 * (never 200) until they return, and lose nothing it acknowledged before.
 */
export const clusterTwoDown: Scenario<DeliveryResult> = (options) => {
  const downMs = options.short ? 20_000 : 40_000;
  return runPlan(
    {
      label: `cluster: two of three nodes SIGKILL, ${seconds(downMs)} down`,
      harness: { clusterNodes: NODES },
      async act(harness, load, log) {
        const cluster = clusterOf(harness);
        const target = await busiest(harness);
        const first = target.leader - 1;
        const second = (first + 1) % NODES;
        await Promise.all([cluster.killNode(first), cluster.killNode(second)]);
        const killed = Date.now();
        await sleep(downMs);
        const restarting = Date.now();
        // A second of margin: a request Kafka acknowledged just before the kill may be answered just after it.
        const down = statusesBetween(load.answers, killed + 1_000, restarting);
        // Together: each needs the other for a controller quorum.
        await Promise.all([cluster.startNode(first), cluster.startNode(second)]);
        const restarted = Date.now();
        const recovery = await recover(harness, load, restarted);
        const synced = await resync(harness, restarted);
        const line =
          `nodes ${first + 1} and ${second + 1} killed; answers while two were down ${JSON.stringify(down)}; ` +
          `restarted in ${seconds(restarted - restarting)}; ${recoveryNote(recovery)}; ${synced}`;
        log(line);
        const failed = [
          ...(down['503'] ? [] : ['no 503 while two of three nodes were down']),
          ...besides503(down, 'two of three down'),
        ];
        return {
          faults: 1,
          recoveries: [recovery],
          notes: [`answers while two of three nodes were down: ${JSON.stringify(down)}`, line],
          failed,
        };
      },
    },
    options,
  );
};

/** Every node stopped cleanly (SIGTERM: leadership moves first) and started again, one after another. */
export const clusterRollingRestart: Scenario<DeliveryResult> = (options) =>
  runPlan(
    {
      label: `cluster: rolling restart of ${NODES} nodes`,
      harness: { clusterNodes: NODES },
      async act(harness, load, log) {
        const cluster = clusterOf(harness);
        const recoveries: Recovery[] = [];
        const notes: string[] = [];
        for (let i = 0; i < NODES; i++) {
          const stopping = Date.now();
          await cluster.stopNode(i);
          const stopped = Date.now();
          await cluster.startNode(i);
          const restarted = Date.now();
          const answers = statusesBetween(load.answers, stopping, restarted);
          const recovery = await recover(harness, load, stopping);
          recoveries.push(recovery);
          const synced = await resync(harness, stopping);
          const line =
            `node ${i + 1}: stopping at ${new Date(stopping).toISOString()}, stopped in ${seconds(stopped - stopping)}, up again in ${seconds(restarted - stopped)}, ` +
            `answers meanwhile ${JSON.stringify(answers)}; ${recoveryNote(recovery)}; ${synced}`;
          log(line);
          notes.push(line);
          if (!options.short) await sleep(5_000);
        }
        return { faults: NODES, recoveries, notes, failed: [] };
      },
    },
    options,
  );

/**
 * The leader of the busiest partition frozen with SIGSTOP (sockets open, nothing answered): the controllers fence
 * it once its heartbeats stop and elect another leader; thawed, it finds itself a follower with a log that may
 * hold writes never acknowledged, truncates them and catches up.
 */
export const clusterLeaderFreeze: Scenario<DeliveryResult> = (options) => {
  const frozenMs = options.short ? 20_000 : 40_000;
  return runPlan(
    {
      label: `cluster: busiest leader SIGSTOP ${seconds(frozenMs)}`,
      harness: { clusterNodes: NODES },
      async act(harness, load, log) {
        const cluster = clusterOf(harness);
        const target = await busiest(harness);
        cluster.freezeNode(target.leader - 1);
        const frozen = Date.now();
        const moved = await waitForTopic(
          harness,
          (ps) => {
            const leader = ps.find((p) => p.partition === target.partition)?.leader ?? -1;
            return leader > 0 && leader !== target.leader;
          },
          frozenMs,
        );
        const movedMs = Date.now() - frozen;
        await sleep(Math.max(0, frozen + frozenMs - Date.now()));
        cluster.thawNode(target.leader - 1);
        const thawed = Date.now();
        const during = statusesBetween(load.answers, frozen, thawed);
        // Writes must go on once the partition has a live leader, not wait for the thaw: the gateway's producer
        // finds the new leader at its next metadata refresh (gateway/src/transport/kafkajs.ts, metadataMaxAge). Given
        // 15 s after the election for that (a send to the frozen leader times out first); a shorter rest of the
        // freeze is only reported.
        const afterMove = moved ? statusesBetween(load.answers, frozen + movedMs, thawed) : {};
        const judged = moved && thawed - (frozen + movedMs) >= 15_000;
        const okAfterMove = Object.entries(afterMove).some(([status, n]) => status.startsWith('2') && n > 0);
        const recovery = await recover(harness, load, frozen);
        const synced = await resync(harness, thawed);
        const line =
          `node ${target.leader} frozen ${seconds(thawed - frozen)}: ` +
          `${moved ? `new leader for partition ${target.partition} after ${seconds(movedMs)}` : 'NO new leader'}, ` +
          `answers meanwhile ${JSON.stringify(during)}` +
          `${moved ? `, after the new leader while still frozen ${JSON.stringify(afterMove)}` : ''}; ${recoveryNote(recovery)}; ${synced}`;
        log(line);
        return {
          faults: 1,
          recoveries: [recovery],
          notes: [line],
          failed: [
            ...(moved ? [] : [`the frozen leader of partition ${target.partition} was never replaced`]),
            ...(judged && !okAfterMove
              ? [`no 2xx between the new leader and the thaw: ${JSON.stringify(afterMove)}`]
              : []),
          ],
        };
      },
    },
    options,
  );
};

/**
 * Every partition's replica list rotated by a reassignment under load, so its preferred leader changes, and the
 * controller's automatic leader rebalance moves each leadership there: leaders change while the gateway produces
 * and the sinks consume.
 */
export const clusterLeaderRebalance: Scenario<DeliveryResult> = (options) =>
  runPlan(
    {
      label: 'cluster: reassignment + leader rebalance',
      harness: { clusterNodes: NODES },
      async act(harness, load, log) {
        const before = await waitForTopic(harness, fullIsr, 60_000);
        if (!before) throw new Error('the replicas were not in sync before the reassignment');
        const rotated = (replicas: number[]) => [...replicas.slice(1), ...replicas.slice(0, 1)];
        const kafka = new Kafka({ brokers: harness.brokers, logLevel: logLevel.NOTHING });
        const admin = kafka.admin();
        await admin.connect();
        const began = Date.now();
        try {
          await admin.alterPartitionReassignments({
            topics: [
              {
                topic: harness.topic,
                partitionAssignment: before.map((p) => ({
                  partition: p.partition,
                  replicas: rotated(p.replicas),
                })),
              },
            ],
          });
        } finally {
          await admin.disconnect();
        }
        // The leader imbalance check runs every 30 s (scripts/kafka/cluster.properties): up to two rounds.
        const after = await waitForTopic(
          harness,
          (ps) =>
            ps.every(
              (p) =>
                p.leader === p.replicas[0] &&
                p.replicas[0] === rotated(before.find((b) => b.partition === p.partition)?.replicas ?? [])[0],
            ),
          120_000,
        );
        const moved = Date.now();
        const answers = statusesBetween(load.answers, began, moved);
        const recovery = await recover(harness, load, moved);
        const changed =
          after?.filter((p) => p.leader !== before.find((b) => b.partition === p.partition)?.leader).length ??
          0;
        const line =
          `leaders before ${JSON.stringify(before.map((p) => p.leader))}, after ${JSON.stringify(after?.map((p) => p.leader))} ` +
          `(${changed} moved in ${seconds(moved - began)}); answers meanwhile ${JSON.stringify(answers)}; ${recoveryNote(recovery)}`;
        log(line);
        return {
          faults: changed,
          recoveries: [recovery],
          notes: [line],
          failed: after ? [] : ['the leaders did not move to the new preferred replicas within 120 s'],
        };
      },
    },
    options,
  );

/** Two gateways behind a round robin, one SIGKILLed and kept down: the other takes every resend. */
export const clusterGatewayKill: Scenario<DeliveryResult> = (options) => {
  const downMs = options.short ? 10_000 : 30_000;
  return runPlan(
    {
      label: `cluster: one of two gateways SIGKILL, ${seconds(downMs)} down`,
      harness: { clusterNodes: NODES, gateways: 2 },
      async act(harness, load, log) {
        const victim = harness.gateways[0];
        if (!victim) throw new Error('no gateway');
        await victim.kill();
        const killed = Date.now();
        await sleep(downMs);
        const down = statusesBetween(load.answers, killed, Date.now());
        await victim.start();
        const recovery = await recover(harness, load, killed);
        const line = `gateway 1 down: answers ${JSON.stringify(down)}; ${recoveryNote(recovery)}`;
        log(line);
        const { killed: landed, failed } = killsLanded(victim, 1, 'gateways');
        if (!Object.keys(down).some((s) => s.startsWith('2')))
          failed.push('no 2xx while one gateway was down');
        return { faults: landed, recoveries: [recovery], notes: [line], failed };
      },
    },
    options,
  );
};

/** Three sinks in one group, two SIGKILLed at once: the third takes all partitions; then both come back. */
export const clusterSinksKill: Scenario<DeliveryResult> = (options) => {
  const downMs = options.short ? 20_000 : 40_000;
  return runPlan(
    {
      label: `cluster: two of three sinks SIGKILL, ${seconds(downMs)} down`,
      harness: { clusterNodes: NODES, sinks: 3, clickhouse: 'http' },
      async act(harness, load, log) {
        const [a, b] = harness.sinks;
        if (!a || !b) throw new Error('fewer than three sinks');
        await Promise.all([a.kill(), b.kill()]);
        const killed = Date.now();
        // Fresh with one sink left: the group gave it the dead ones' partitions.
        const alone: Recovery = await recover(harness, load, killed);
        await sleep(Math.max(0, killed + downMs - Date.now()));
        await Promise.all([a.start(), b.start()]);
        const restarted = Date.now();
        const back = await recover(harness, load, restarted);
        const line = `two sinks killed: fresh with one after ${seconds(alone.freshMs)}; both back, fresh after ${seconds(back.freshMs)}`;
        log(line);
        const failed = [...killsLanded(a, 1, 'sinks').failed, ...killsLanded(b, 1, 'sinks').failed];
        return { faults: 2, recoveries: [alone, back], notes: [line], failed } satisfies Applied;
      },
    },
    options,
  );
};

/**
 * min.insync.replicas itself, apart from the controller quorum: with two of three nodes down (clusterTwoDown)
 * the quorum is lost too, so the 503s there could come from the missing controllers alone. Here the topic asks for
 * three in-sync replicas and one node of three is SIGKILLed: the two left keep a quorum, and no acks=all write
 * can be acknowledged; the gateway must answer 503, never 200. How Kafka refuses is reported, not required: on
 * Kafka 4.4 (eligible leader replicas on by default since 4.1) a run here kept the dead replica in the ISR for
 * the whole 20 s, so writes timed out (the gateway's delivery deadline) rather than failing NOT_ENOUGH_REPLICAS.
 */
export const clusterMinIsrUnmet: Scenario<DeliveryResult> = (options) => {
  const downMs = options.short ? 20_000 : 40_000;
  return runPlan(
    {
      label: `cluster: min in-sync 3, one node SIGKILL, ${seconds(downMs)} down`,
      harness: { clusterNodes: NODES, topicMinInsyncReplicas: NODES },
      async act(harness, load, log) {
        const cluster = clusterOf(harness);
        const target = await busiest(harness);
        const index = target.leader - 1;
        await cluster.killNode(index);
        const killed = Date.now();
        const shrunk = await waitForTopic(harness, (ps) => ps.every((p) => p.isr.length < NODES), downMs);
        const shrunkAt = Date.now();
        await sleep(Math.max(0, killed + downMs - Date.now()));
        const restarting = Date.now();
        const down = statusesBetween(load.answers, killed + 1_000, restarting);
        const afterShrink = statusesBetween(load.answers, shrunkAt, restarting);
        await cluster.startNode(index);
        const restarted = Date.now();
        const recovery = await recover(harness, load, restarted);
        const synced = await resync(harness, restarted);
        const refusals = harness.gateways
          .flatMap((g) => g.history)
          .flatMap((run) => logLines(run, 'NOT_ENOUGH_REPLICAS')).length;
        const line =
          `node ${target.leader} killed; ISR ${shrunk ? `shrank after ${seconds(shrunkAt - killed)}` : 'NEVER shrank'}; ` +
          `answers while down ${JSON.stringify(down)}, after the shrink ${JSON.stringify(afterShrink)}; ` +
          `gateway log lines naming NOT_ENOUGH_REPLICAS: ${refusals}; ${recoveryNote(recovery)}; ${synced}`;
        log(line);
        const failed = [
          ...(down['503'] ? [] : ['no 503 while a replica of three was down under min in-sync 3']),
          ...besides503(down, 'down under min in-sync 3'),
        ];
        return {
          faults: 1,
          recoveries: [recovery],
          notes: [`answers while below min in-sync: ${JSON.stringify(down)}`, line],
          failed,
        };
      },
    },
    options,
  );
};
