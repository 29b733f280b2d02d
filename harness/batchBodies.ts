// The bodies of the Segment batch API (`POST /v1/batch`: `{writeKey, sentAt, batch: [...]}`) cut as the browser
// SDK cuts them (sdk/src/batch.ts), for tooling that must send as a page does. Code of its own, not the SDK's:
// tooling reaches products only through their package exports, and the SDK's body builder is an internal of
// its script-tag build.

/** The SDK's limit on one body: Chrome refuses keepalive requests past 64 KiB in flight (sdk/src/batch.ts). */
export const MAX_BODY_BYTES = 64_000;
/** The SDK's limit on the events of one body, under the gateway's `TIDEMARK_MAX_BATCH_EVENTS`. */
export const MAX_BODY_EVENTS = 500;

/** An event waiting to be sent: its `messageId` and its JSON text. */
export type QueuedEvent = [messageId: string, json: string];

/** Events that travel together in one body. */
export interface BodyEvents {
  /** Their `messageId`s. */
  ids: string[];
  /** Their JSON texts. */
  jsons: string[];
}

/** The body of events given as JSON texts, `sentAt` stamped now: the gateway's clock-skew fix reads it. */
export function batchEnvelope(writeKey: string, jsons: readonly string[]): string {
  return `{"writeKey":${JSON.stringify(writeKey)},"sentAt":"${new Date().toISOString()}","batch":[${jsons.join(',')}]}`;
}

/**
 * Groups events, in order, into bodies of at most MAX_BODY_BYTES (UTF-8, envelope included) and MAX_BODY_EVENTS.
 * An event bigger than that travels alone, as in the SDK.
 */
export function* batchBodies(events: readonly QueuedEvent[], writeKey: string): Generator<BodyEvents> {
  // Every event adds itself and a comma, but the first has no comma before it: `- 1`.
  const overhead = Buffer.byteLength(batchEnvelope(writeKey, [])) - 1;
  let body: BodyEvents = { ids: [], jsons: [] };
  let bytes = overhead;
  for (const [id, json] of events) {
    const size = Buffer.byteLength(json) + 1;
    if (body.ids.length && (body.ids.length >= MAX_BODY_EVENTS || bytes + size > MAX_BODY_BYTES)) {
      yield body;
      body = { ids: [], jsons: [] };
      bytes = overhead;
    }
    bytes += size;
    body.ids.push(id);
    body.jsons.push(json);
  }
  if (body.ids.length) yield body;
}
