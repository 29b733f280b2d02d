// The retry policy: which answers are tried again, and after how long.

/**
 * Whether a request answered with `status` (0: no answer at all, a network error or a blocked request) is sent
 * again later, with the same events (same `messageId`s): 408, 429, 5xx and no answer. Every other status settles
 * the request (see `deliver` in sender.ts).
 */
export const retriable = (status: number): boolean =>
  !status || status === 408 || status === 429 || status > 499;

/**
 * Milliseconds before retry number `attempt` (0-based): an exponential back-off from 1 s, capped at 60 s, with
 * 50–100 % jitter so that pages a failing gateway bounced do not come back in step; never shorter than the
 * gateway's `Retry-After` (`retryAfterMs`, 0 when it sent none).
 */
export const backoff = (attempt: number, retryAfterMs: number): number =>
  Math.max(retryAfterMs, Math.min(6e4, 1000 * 2 ** attempt) * (0.5 + Math.random() / 2));
