/** Cap of the exponential retry back-off. */
export const MAX_RETRY_DELAY = 60_000;
const FIRST_RETRY_DELAY = 1000;

/**
 * Whether the gateway settled a batch for good: a 2xx (accepted; per-event `rejected` entries were
 * invalid and are dropped too) or a 4xx other than 408/429 (the batch itself is unusable: retrying
 * would fail forever). Anything else (429, 5xx, 408, no answer) is worth a retry.
 */
export function isSettled(status: number): boolean {
  return (status >= 200 && status < 300) || (status >= 400 && status < 500 && status !== 408 && status !== 429);
}

/**
 * The `Retry-After` of a response in milliseconds (seconds or an HTTP date), 0 when absent or invalid.
 * Cross-origin, the gateway must list it in `Access-Control-Expose-Headers` for the SDK to see it.
 */
export function retryAfter(response: Response | undefined): number {
  const header = response?.headers.get('Retry-After');
  if (!header) return 0;
  const seconds = Number(header);
  return Math.max(0, seconds >= 0 ? seconds * 1000 : Date.parse(header) - Date.now()) || 0;
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
