import { type Outcome, outcomeOf, retryAfter } from './retry.js';
import type { TidemarkOptions } from './types.js';

/** How request bodies leave the page. Neither method throws. */
export interface Transport {
  /**
   * POSTs a body with `fetch` and resolves with what became of it and the gateway's `Retry-After` in
   * milliseconds (0 when absent). `keepalive` lets the request outlive the page (bodies up to 64 KB).
   */
  post(body: string, keepalive: boolean): Promise<[outcome: Outcome, retryAfterMs: number]>;
  /** Hands a body to `sendBeacon`; `false` when there is none or the browser refused the body. */
  beacon(body: string): boolean;
}

/**
 * The transport to `url`, through the `fetch` and `sendBeacon` of the options or else the browser's. Bodies
 * are strings, so both send `Content-Type: text/plain;charset=UTF-8`: a CORS-safelisted type, hence no
 * preflight. A beacon cannot be preflighted at all: Chrome throws on a Blob of another type, and some
 * browsers drop such beacons silently (DESIGN §2).
 */
export function createTransport(
  url: string,
  options: Pick<TidemarkOptions, 'fetch' | 'sendBeacon'>,
  log: (...args: unknown[]) => void,
): Transport {
  const send = options.fetch ?? ((target: string, init: RequestInit) => fetch(target, init));
  const nav = globalThis.navigator;
  const sendBeacon =
    options.sendBeacon ??
    (nav?.sendBeacon ? (target: string, data: string) => nav.sendBeacon(target, data) : undefined);

  return {
    async post(body, keepalive) {
      let response: Response | undefined;
      try {
        // `omit`: the gateway knows visitors by anonymousId, never by cookie, and allows no credentials.
        response = await send(url, { method: 'POST', body, keepalive, credentials: 'omit' });
      } catch (error) {
        log(error);
      }
      const outcome = outcomeOf(response?.status ?? 0);
      log(outcome, response?.status);
      return [outcome, retryAfter(response)];
    },
    beacon(body) {
      try {
        return sendBeacon?.(url, body) === true;
      } catch (error) {
        // Chrome throws (rather than returning false) on some URLs and in some frames.
        log(error);
        return false;
      }
    },
  };
}
