import { expect, it } from 'vitest';
import { erasure } from '../chaos/scenarios/erasure.js';
import { expectDelivered } from './support/expectDelivered.js';

// Issue 20's erasure under faults, the short version: a person erased with SUPPRESS_WITH_DELETE while their two
// devices keep sending and resending, the sink killed with SIGKILL and the broker frozen meanwhile; none of their
// rows when the regulation finishes nor after the drain, and everyone else's events stored once. The scenario
// freezes the broker, so it starts a broker of its own.
const log = (line: string) => console.log(`  ${line}`);

it('leaves no row of an erased person, when the regulation finishes and after the drain, while their devices keep sending, the sink is killed and the broker frozen; everyone else is stored once', async () => {
  const result = await erasure({ short: true, log });
  expectDelivered(result, 2);
  // The resends of the erased person's earlier events happened: the regulation was tested against them.
  expect(result.notes.find((note) => note.startsWith("the erased person's events resent"))).toMatch(
    /: [1-9]/,
  );
}, 300_000);
