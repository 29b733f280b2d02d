import { expect, inject, it } from 'vitest';
import { browserOffline } from '../chaos/scenarios/browser-offline.js';

// Issue 8's browser fault, short: visitors in Chromium go offline, reload, close tabs and the browser, come back
// on the same profile, and the gateway refuses them with 503 for a while; every event the SDK accepted must be
// stored exactly once, and the shipped queries must count exactly those.
it('stores every event of visitors offline across reloads, tab closes and next visits exactly once', async () => {
  const result = await browserOffline({ brokers: inject('kafkaBrokers'), short: true });
  console.log(JSON.stringify(result, null, 2));

  expect(result.sent).toBeGreaterThan(300);
  expect({ lost: result.lost, doubled: result.doubled }).toEqual({ lost: 0, doubled: 0 });
  expect(result.stored).toBe(result.sent);
  expect(result.counted).toBe(result.sent);
  // Offline held: the gateway saw no request while the visitors were offline, nothing tracked then arrived
  // before the window ended, and the visitors' IndexedDB held the events at its end.
  for (const window of result.windows) {
    expect(window).toMatchObject({ gatewayRequests: 0, receivedEarly: 0 });
    expect(window.held).toBeGreaterThan(0);
    expect(window.queued).toBeGreaterThan(0);
  }
  expect(result.windows.some((window) => window.refused)).toBe(true);
}, 240_000);
