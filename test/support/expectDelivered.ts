import { expect } from 'vitest';
import type { DeliveryResult } from '../../chaos/report.js';

/** Every acknowledged event stored once, counted by the overview query, and the scenario's own checks held. */
export function expectDelivered(result: DeliveryResult, faults: number) {
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
