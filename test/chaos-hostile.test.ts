import { expect, inject, it } from 'vitest';
import { HOSTILE_REQUESTS, hostile } from '../chaos/scenarios/hostile.js';

// Issue 8's hostile input, the short version: 20 000 generated hostile requests (malformed, truncated, wrongly
// typed, huge, deep, invalid UTF-8, prototype keys, unknown and revoked keys, forbidden origins, SQL injection,
// raw-socket abuse, slow clients) against a gateway process with the read API on, in distributed mode on the
// shared broker with a sink storing into chDB. `pnpm chaos` runs the full 100 000. It took 625 s on a 2-core machine
// shared with three other engineers' brokers and browsers (load average 25 to 35), hence the long timeout.
it('answers 20 000 hostile requests as expected, stores exactly the valid events, and stays up', async () => {
  const result = await hostile({ brokers: inject('kafkaBrokers'), short: true, log: console.log });
  console.log(JSON.stringify(result, null, 2));
  expect(result.total).toBeGreaterThanOrEqual(HOSTILE_REQUESTS.short);
  expect(result.notes.filter((n) => n.startsWith('wrong:'))).toEqual([]);
  expect(result.wrong).toBe(0);
  expect(result.survived).toBe(true);
  expect(result.validSent).toBeGreaterThan(0);
  expect(result.validStored).toBe(result.validSent);
  expect(result.unexpectedStored).toBe(0);
}, 1_200_000);
