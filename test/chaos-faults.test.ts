import { expect, inject, it } from 'vitest';
import {
  brokerFreeze,
  brokerRestart,
  clickhouseOutage,
  gatewayKills,
  sinkKills,
  soak,
} from '../chaos/scenarios/process-faults.js';
import { expectDelivered } from './support/expectDelivered.js';

// Issue 8's process faults, the short versions: the whole pipeline as real processes under an SDK-like load,
// one fault each, counted against ClickHouse at the end. The scenarios on the broker start a broker of their own
// (the shared one must keep running for the other files); the rest use the shared one.
const brokers = inject('kafkaBrokers');
const log = (line: string) => console.log(`  ${line}`);

it('loses and doubles nothing while the gateway is killed with SIGKILL and restarted three times', async () => {
  const result = await gatewayKills({ brokers, short: true, log });
  expectDelivered(result, 3);
  // Requests cut by the kills were resent: the kills hit requests in flight.
  expect(result.notes.join('\n')).toMatch(/"network":\d+/);
}, 300_000);

it('loses and doubles nothing while the sink is killed with SIGKILL and restarted three times', async () => {
  expectDelivered(await sinkKills({ brokers, short: true, log }), 3);
}, 300_000);

it('answers 503 while the broker is stopped, and loses and doubles nothing across its restart', async () => {
  const result = await brokerRestart({ short: true, log });
  expectDelivered(result, 1);
  // The 503s themselves: `failed` would list their absence, but show them too.
  expect(result.notes.find((note) => note.startsWith('answers while the broker was down'))).toMatch(
    /"503":[1-9]/,
  );
}, 300_000);

it('answers 503 past the delivery deadline while the broker is frozen with SIGSTOP for 20 s, and loses and doubles nothing', async () => {
  const result = await brokerFreeze({ short: true, log });
  expectDelivered(result, 1);
  // A frozen broker never answers; the gateway's delivery deadline (TIDEMARK_DELIVER_TIMEOUT_MS, 10 s) turns the
  // wait into a 503 the load generator resends, instead of holding requests until its own timeout. The freeze
  // outlasts the deadline by 10 s, so requests sent in its first half get their 503 while it lasts.
  expect(result.notes.find((note) => note.startsWith('answers:'))).toMatch(/"503":[1-9]/);
}, 300_000);

it('loses and doubles nothing while ClickHouse hangs and then refuses connections for 10 s', async () => {
  const result = await clickhouseOutage({ brokers, short: true, log });
  expectDelivered(result, 1);
  expect(result.notes.find((note) => note.startsWith('failed insert attempts'))).toMatch(/: [1-9]/);
}, 300_000);

it('keeps memory, open files and lag flat and data fresh for a minute of steady load', async () => {
  expectDelivered(await soak({ brokers, short: true, log }), 0);
}, 300_000);
