import { expect, it } from 'vitest';
import { erasure } from '../chaos/scenarios/erasure.js';

// Issue 20's erasure under faults, the short version: a person erased with SUPPRESS_WITH_DELETE while their two
// devices keep sending and resending, the sink killed with SIGKILL and the broker frozen meanwhile; none of their
// rows when the regulation finishes nor after the drain, and everyone else's events stored once. The scenario
// freezes the broker, so it starts a broker of its own.
const log = (line: string) => console.log(`  ${line}`);

it('leaves no row of an erased person, when the regulation finishes and after the drain, while their devices keep sending, the sink is killed and the broker frozen; everyone else is stored once', async () => {
  const result = await erasure({ short: true, log });
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
    faults: 2,
    lost: 0,
    doubled: 0,
    rawDuplicates: 0,
    stored: result.sent,
    counted: result.sent,
    failed: [],
  });
  // The resends of the erased person's earlier events happened: the regulation was tested against them.
  expect(result.notes.find((note) => note.startsWith("the erased person's events resent"))).toMatch(
    /: [1-9]/,
  );
}, 300_000);
