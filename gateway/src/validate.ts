import { parseTimestamp } from './enrich/time.js';
import {
  EVENT_TYPES,
  type EventType,
  type JsonObject,
  type SegmentContext,
  type SegmentEvent,
} from './segment.js';

/** Why one event of a batch was rejected; stable codes the SDK and the dead-letter topic can rely on. */
export type RejectReason =
  | 'not_an_object'
  | 'too_large'
  | 'invalid_type'
  | 'invalid_message_id'
  | 'missing_id'
  | 'missing_event'
  | 'invalid_timestamp'
  | 'invalid_properties'
  | 'invalid_traits'
  | 'invalid_context';

export type Validation = { ok: true; event: SegmentEvent } | { ok: false; reason: RejectReason };

const TYPES = new Set<string>(EVENT_TYPES);

/**
 * Checks one raw event of a batch. The envelope schema cannot do this: a batch is accepted in part
 * (DESIGN §2), so each event gets its own verdict instead of failing the request.
 */
export function validateEvent(raw: unknown, maxEventBytes: number): Validation {
  if (!isObject(raw)) return { ok: false, reason: 'not_an_object' };
  if (Buffer.byteLength(JSON.stringify(raw)) > maxEventBytes) return { ok: false, reason: 'too_large' };
  if (typeof raw.type !== 'string' || !TYPES.has(raw.type)) return { ok: false, reason: 'invalid_type' };
  const type = raw.type as EventType;

  const messageId = raw.messageId;
  if (messageId != null && (typeof messageId !== 'string' || messageId === '' || messageId.length > 200)) {
    return { ok: false, reason: 'invalid_message_id' };
  }
  // Segment accepts numeric ids from server libraries; they are stored as text.
  const anonymousId = idString(raw.anonymousId);
  const userId = idString(raw.userId);
  if (anonymousId === undefined && userId === undefined) return { ok: false, reason: 'missing_id' };

  const event = typeof raw.event === 'string' ? raw.event.trim() : '';
  if (type === 'track' && event === '') return { ok: false, reason: 'missing_event' };

  for (const field of ['timestamp', 'sentAt'] as const) {
    const value = raw[field];
    if (value != null && (typeof value !== 'string' || parseTimestamp(value) === undefined)) {
      return { ok: false, reason: 'invalid_timestamp' };
    }
  }
  if (raw.properties != null && !isObject(raw.properties)) return { ok: false, reason: 'invalid_properties' };
  if (raw.traits != null && !isObject(raw.traits)) return { ok: false, reason: 'invalid_traits' };
  if (raw.context != null && !isObject(raw.context)) return { ok: false, reason: 'invalid_context' };

  const valid: SegmentEvent = { type };
  if (typeof messageId === 'string') valid.messageId = messageId;
  if (typeof raw.timestamp === 'string') valid.timestamp = raw.timestamp;
  if (typeof raw.sentAt === 'string') valid.sentAt = raw.sentAt;
  if (anonymousId !== undefined) valid.anonymousId = anonymousId;
  if (userId !== undefined) valid.userId = userId;
  if (event !== '') valid.event = event;
  for (const field of ['name', 'groupId', 'previousId'] as const) {
    const value = idString(raw[field]);
    if (value !== undefined) valid[field] = value;
  }
  if (isObject(raw.properties)) valid.properties = raw.properties;
  if (isObject(raw.traits)) valid.traits = raw.traits;
  if (isObject(raw.context)) valid.context = raw.context as SegmentContext;
  return { ok: true, event: valid };
}

/** The client's messageId if it sent a usable one, for the `rejected` list. */
export function messageIdOf(raw: unknown): string | null {
  return isObject(raw) && typeof raw.messageId === 'string' ? raw.messageId : null;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function idString(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'string' && value.trim() !== '') return value;
  return undefined;
}
