/** Cap of the exponential retry back-off. */
export const MAX_RETRY_DELAY = 60_000;
const FIRST_RETRY_DELAY = 1000;

/**
 * What to do with the events of a request, given the gateway's status (0: no answer at all).
 * - `sent`: a 2xx. Delivered; the events listed in the answer's `rejected` were invalid and are dropped, so
 *   every event of the request leaves the queue.
 * - `retry`: 408, 429, 5xx or a network error. Send the same events (same `messageId`s) again after a back-off.
 * - `drop`: 400 (no event of the body is usable) or 413 (one event larger than the gateway accepts: bodies
 *   hold at most 64 KB, far below its batch limit). The gateway judged these events invalid; resending the
 *   same bytes cannot succeed, and keeping them would block every event queued behind them.
 * - `hold`: any other 4xx (401 unknown write key, 403 origin not allowed, 404 wrong host). A configuration
 *   problem, not the events' fault: they stay stored, are not sent again by this page, and go out on a
 *   later page load, once the configuration is fixed.
 */
export type Outcome = 'sent' | 'retry' | 'drop' | 'hold';

export function outcomeOf(status: number): Outcome {
  if (status >= 200 && status < 300) return 'sent';
  if (status === 0 || status === 408 || status === 429 || status >= 500) return 'retry';
  return status === 400 || status === 413 ? 'drop' : 'hold';
}

/**
 * The `Retry-After` of a response in milliseconds, 0 when absent. Only the delay-seconds form: the gateway
 * sends no other, and an HTTP date (or garbage) counts as absent, which leaves the exponential back-off.
 * Cross-origin, the gateway must list it in `Access-Control-Expose-Headers` for the SDK to see it.
 */
export function retryAfter(response: Response | undefined): number {
  return Number(response?.headers.get('Retry-After')) * 1000 || 0;
}

/**
 * Delay before retry number `attempt` (0-based): exponential from 1 s, capped at MAX_RETRY_DELAY, with
 * jitter (50–100 %) so that pages a failing gateway bounced do not come back in step; never earlier
 * than the gateway's `Retry-After`.
 */
export function retryDelay(attempt: number, retryAfterMs: number): number {
  const exponential = Math.min(MAX_RETRY_DELAY, FIRST_RETRY_DELAY * 2 ** attempt);
  return Math.max(retryAfterMs, exponential * (0.5 + Math.random() / 2));
}
