import { expect, it } from 'vitest';
import { clusterLeaderKill, clusterTwoDown } from '../chaos/scenarios/cluster-faults.js';
import { expectDelivered } from './support/expectDelivered.js';

// Issue 23's cluster faults, the short versions: a three-node KRaft cluster of the scenario's own (replication
// factor 3, min.insync.replicas 2, unclean leader election off), the gateway and the sink as processes under an
// SDK-like load, counted against ClickHouse at the end. The rest (rolling restart, a frozen leader, a leader
// rebalance, two gateways, three sinks) and the longer versions run in `pnpm chaos --cluster`.
const log = (line: string) => console.log(`  ${line}`);

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
