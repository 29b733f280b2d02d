import { type Chunk, chunks, envelope, MAX_BODY_BYTES } from './batch.js';
import type { Entry } from './queue.js';
import type { TidemarkOptions } from './types.js';

/** How request bodies leave the page. Neither method throws. */
export interface Transport {
  /**
   * POSTs one chunk with `fetch`; resolves with the gateway's status (0: no answer at all) and its `Retry-After`
   * in milliseconds (0: none).
   */
  post(chunk: Chunk, dropped: number): Promise<[status: number, retryAfterMs: number]>;
  /**
   * Hands the entries to `sendBeacon`, in order, a body at a time, until the browser refuses one. Returns how many
   * were handed over: fewer than given when a body was refused (or there is no `sendBeacon`).
   */
  beacon(entries: Entry[]): number;
}

/**
 * The transport of `writeKey`'s events to `url`. Bodies are strings, so both ways send them as `text/plain`, a
 * CORS-safelisted type: no preflight.
 */
export function createTransport(
  url: string,
  writeKey: string,
  fetch: NonNullable<TidemarkOptions['fetch']>,
  sendBeacon: NonNullable<TidemarkOptions['sendBeacon']>,
  log: (...args: unknown[]) => void,
): Transport {
  return {
    async post(chunk, dropped) {
      let response: Response | undefined;
      try {
        // `omit`: the gateway knows visitors by anonymousId, never by cookie, and allows no credentials. A
        // body over the keepalive quota would be refused outright with keepalive: it goes plainly.
        response = await fetch(url, {
          method: 'POST',
          body: envelope(writeKey, chunk.jsons, dropped),
          keepalive: chunk.bytes <= MAX_BODY_BYTES,
          credentials: 'omit',
        });
      } catch (error) {
        log(error);
      }
      const status = response?.status ?? 0;
      log('status', status);
      // Delay-seconds only: the gateway sends no other form (cross-origin, it exposes the header).
      return [status, Number(response?.headers.get('Retry-After')) * 1000 || 0];
    },
    beacon(entries) {
      let sent = 0;
      try {
        for (const chunk of chunks(entries, writeKey, 0)) {
          if (!(chunk.bytes <= MAX_BODY_BYTES && sendBeacon(url, envelope(writeKey, chunk.jsons, 0)))) break;
          sent += chunk.ids.length;
        }
      } catch (error) {
        // No `sendBeacon`; or Chrome threw (rather than returning false) on the URL or in this frame.
        log(error);
      }
      return sent;
    },
  };
}
