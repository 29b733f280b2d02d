import type { Entry } from './queue.js';

/**
 * Largest body we build. Chrome refuses a keepalive fetch or a beacon once the bodies a page has in flight
 * that way exceed 64 KiB (https://fetch.spec.whatwg.org/#http-network-or-cache-fetch, "inflight keepalive
 * bytes"), so one body must stay below that. 64,000 leaves room under both readings of "64 KB".
 */
export const MAX_BODY_BYTES = 64_000;
/**
 * Most events in one body. The gateway refuses a body with more than its `TIDEMARK_MAX_BATCH_EVENTS` (2 000 by
 * default) whole, with a 413 that drops it here; a body of tiny events could otherwise reach that within 64 KB.
 */
export const MAX_BODY_EVENTS = 500;
/** UTF-8 bytes of a text; an ASCII text (most events) is measured without making a Blob of it. */
const size = (text: string) => (/[^\0-\x7f]/.test(text) ? new Blob([text]).size : text.length);

/** Events that travel together in one request body. */
export interface Chunk {
  /** Their `messageId`s. */
  ids: string[];
  /** Their JSON texts. */
  jsons: string[];
  /** The UTF-8 size of the body they make, envelope included. */
  bytes: number;
}

/**
 * The body of the Segment HTTP Tracking API's `/v1/batch`. `sentAt` is stamped per attempt: the gateway's
 * clock-skew fix needs it.
 * `dropped`, when not 0, counts the events this page deleted unsent because the stored queue was over a limit.
 */
export function envelope(writeKey: string, jsons: string[], dropped: number): string {
  return `{"writeKey":${JSON.stringify(writeKey)},"sentAt":"${new Date().toISOString()}",${dropped ? `"dropped":${dropped},` : ''}"batch":[${jsons}]}`;
}

/**
 * Groups events, in order, into bodies of at most MAX_BODY_BYTES and MAX_BODY_EVENTS. An event bigger than that
 * travels alone (and without keepalive, see transport.ts); the gateway will reject it as too large, which drops it.
 * A generator, so the sender can take the first chunk without measuring a long offline backlog.
 */
export function* chunks(entries: Entry[], writeKey: string, dropped: number): Generator<Chunk> {
  // Every event adds itself and a comma, but the first has no comma before it: `- 1`.
  const overhead = size(envelope(writeKey, [], dropped)) - 1;
  let chunk: Chunk = { ids: [], jsons: [], bytes: overhead };
  for (const [id, json] of entries) {
    const bytes = size(json) + 1;
    if (chunk.ids.length && (chunk.ids.length >= MAX_BODY_EVENTS || chunk.bytes + bytes > MAX_BODY_BYTES)) {
      yield chunk;
      chunk = { ids: [], jsons: [], bytes: overhead };
    }
    chunk.bytes += bytes;
    chunk.ids.push(id);
    chunk.jsons.push(json);
  }
  if (chunk.ids.length) yield chunk;
}
