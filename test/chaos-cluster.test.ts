import { expect, it } from 'vitest';
import type { DeliveryResult } from '../chaos/report.js';
import { clusterLeaderKill, clusterTwoDown } from '../chaos/scenarios/cluster-faults.js';

// Issue 23's cluster faults, the short versions: a three-node KRaft cluster of the scenario's own (replication
// factor 3, min.insync.replicas 2, unclean leader election off), the gateway and the sink as processes under an
// SDK-like load, counted against ClickHouse at the end. The rest (rolling restart, a frozen leader, a leader
// rebalance, two gateways, three sinks) and the longer versions run in `pnpm chaos --cluster`.
const log = (line: string) => console.log(`  ${line}`);

/** Every acknowledged event stored once (with and without FINAL), counted by the overview query, checks held. */
function expectDelivered(result: DeliveryResult, faults: number) {
  console.log(
    `${result.scenario}: ${JSON.stringify({ ...result, notes: undefined })}\n  ${result.notes.join('\n  ')}`,
  );
  expect(result.sent).toBeGreaterThan(0);
  expect({
    faults: result.faults,
    lost: result.lost,
    doubled: result.doubled,
    rawDuplicates: result.rawDuplicates,
    stored: result.stored,
    counted: result.counted,
    failed: result.failed ?? [],
  }).toEqual({
    faults,
    lost: 0,
    doubled: 0,
    rawDuplicates: 0,
    stored: result.sent,
    counted: result.sent,
    failed: [],
  });
}

it('keeps taking writes and loses and doubles nothing when the leader of the busiest partition is SIGKILLed', async () => {
  const result = await clusterLeaderKill({ short: true, log });
  expectDelivered(result, 1);
  // The election itself, and writes acknowledged while one node of three was down (`failed` checks both).
  expect(result.notes.join('\n')).toMatch(/new leader after/);
}, 240_000);

it('answers 503, never 200, while two of three nodes are down, and loses and doubles nothing', async () => {
  const result = await clusterTwoDown({ short: true, log });
  expectDelivered(result, 1);
  expect(result.notes.find((note) => note.startsWith('answers while two of three'))).toMatch(/"503":[1-9]/);
}, 240_000);
