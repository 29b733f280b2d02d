import { createHash } from 'node:crypto';
import { uuidv7 } from 'uuidv7';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// A fixed namespace for UUIDv5 (RFC 9562 §5.5) ids derived from non-UUID messageIds.
const NAMESPACE = Buffer.from('5b0f4c1e9a7d4c2b8e3f6a1d2c4b7e90', 'hex');

/**
 * The `event_id` (a ClickHouse UUID) for an event.
 *
 * Tidemark's SDK sends UUIDv7 messageIds, kept as they are. Other Segment libraries send ids such as
 * `ajs-next-…`; those become a UUIDv5 of project and messageId, so a resend of the same event still gets
 * the same `event_id` and deduplicates. An event without a messageId gets a fresh UUIDv7 (DESIGN §2).
 */
export function eventIdFor(projectId: string, messageId: string | undefined): string {
  if (messageId === undefined) return uuidv7();
  if (UUID.test(messageId)) return messageId.toLowerCase();
  const hash = createHash('sha1').update(NAMESPACE).update(`${projectId}\n${messageId}`).digest();
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50;
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
