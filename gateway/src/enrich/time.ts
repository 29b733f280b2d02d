// ISO 8601 as clients send it: date, time, optional fraction, optional zone (`Z` or `±hh:mm`).
const ISO = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)?$/i;
// DateTime64 stores far more, but `toYYYYMM` partitions and JSON clients only make sense in this range.
const MIN_MS = 0;
const MAX_MS = Date.UTC(2106, 0, 1);

/** Milliseconds since the epoch, or undefined for anything that is not an ISO 8601 date-time in range. */
export function parseTimestamp(value: string): number | undefined {
  if (!ISO.test(value)) return undefined;
  // A time without a zone would be read in the server's local zone by Date.parse; clients mean UTC.
  const zoned = /(Z|[+-]\d{2}(:?\d{2})?)$/i.test(value.slice(10)) ? value : `${value}Z`;
  const ms = Date.parse(zoned);
  return Number.isNaN(ms) || ms < MIN_MS || ms >= MAX_MS ? undefined : ms;
}

/** ClickHouse's basic DateTime64(3) text format in UTC: `YYYY-MM-DD hh:mm:ss.mmm`. */
export function formatDateTime64(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 23);
}

/**
 * When the event happened, on the gateway's clock (DESIGN §3).
 *
 * `receivedAt − sentAt` is the client's clock skew plus transit time. Below the threshold it is mostly
 * transit, which belongs to the event's real time, so the client clock is kept as is; above it the client
 * clock is wrong and is shifted by the measured skew. A time still later than the receipt by more than the
 * threshold (no `sentAt` to measure the skew with) becomes the receipt time: an event cannot happen after it
 * arrived.
 */
export function correctTimestamp(
  clientMs: number,
  sentAtMs: number | undefined,
  receivedAtMs: number,
  thresholdMs: number,
): number {
  let corrected = clientMs;
  if (sentAtMs !== undefined && Math.abs(receivedAtMs - sentAtMs) > thresholdMs) {
    corrected = clientMs + (receivedAtMs - sentAtMs);
  }
  if (corrected > receivedAtMs + thresholdMs) corrected = receivedAtMs;
  return Math.max(corrected, MIN_MS);
}
