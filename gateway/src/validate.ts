import { Ajv, type ErrorObject } from 'ajv';
import { isBigIntegerMark } from './bigIntegers.js';
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
  | 'too_deep'
  | 'invalid_type'
  | 'invalid_message_id'
  | 'missing_id'
  | 'missing_event'
  | 'invalid_timestamp'
  | 'invalid_properties'
  | 'invalid_traits'
  | 'invalid_context'
  | 'invalid_integrations';

export type Validation = { ok: true; event: SegmentEvent } | { ok: false; reason: RejectReason };

const idSchema = { anyOf: [{ type: 'number' }, { type: 'string', pattern: '\\S' }] };
const timeSchema = { anyOf: [{ type: 'null' }, { type: 'string', format: 'segment-timestamp' }] };
const objectOrNull = { type: ['object', 'null'] };

/**
 * One event of the Segment HTTP API as the gateway accepts it (DESIGN §2), as JSON Schema. Fields it does not
 * name are kept or ignored, never an error. Only what the gateway relies on is constrained: a known type, a
 * usable messageId, an id to attribute the event to, an event name for `track`, parseable times, and objects
 * where objects belong.
 */
export const segmentEventSchema = {
  $id: 'https://tidemark.dev/schemas/segment-event.json',
  type: 'object',
  required: ['type'],
  properties: {
    type: { enum: [...EVENT_TYPES] },
    messageId: { anyOf: [{ type: 'null' }, { type: 'string', minLength: 1, maxLength: 200 }] },
    timestamp: timeSchema,
    sentAt: timeSchema,
    originalTimestamp: timeSchema,
    properties: objectOrNull,
    traits: objectOrNull,
    context: objectOrNull,
    integrations: objectOrNull,
  },
  allOf: [
    // Who it is about: an anonymousId or a userId, a number or a string that is not blank.
    {
      anyOf: [
        { required: ['anonymousId'], properties: { anonymousId: idSchema } },
        { required: ['userId'], properties: { userId: idSchema } },
      ],
    },
    // What happened, for a track call.
    {
      if: { properties: { type: { const: 'track' } } },
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword, not a thenable.
      then: { required: ['event'], properties: { event: { type: 'string', pattern: '\\S' } } },
    },
  ],
} as const;

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
ajv.addFormat('segment-timestamp', (value: string) => parseTimestamp(value) !== undefined);
const check = ajv.compile(segmentEventSchema);

/** Reasons in the order they are reported when an event has several faults, so the answer is stable. */
const PRECEDENCE: RejectReason[] = [
  'invalid_type',
  'invalid_message_id',
  'missing_id',
  'missing_event',
  'invalid_timestamp',
  'invalid_properties',
  'invalid_traits',
  'invalid_context',
  'invalid_integrations',
];

/** The stable reason code for one schema violation. */
function reasonOf(error: ErrorObject): RejectReason {
  if (error.schemaPath.startsWith('#/allOf/0')) return 'missing_id';
  if (error.schemaPath.startsWith('#/allOf/1')) return 'missing_event';
  const field =
    error.keyword === 'required'
      ? String(error.params.missingProperty)
      : (error.instancePath.split('/')[1] ?? '');
  switch (field) {
    case 'messageId':
      return 'invalid_message_id';
    case 'timestamp':
    case 'sentAt':
    case 'originalTimestamp':
      return 'invalid_timestamp';
    case 'properties':
      return 'invalid_properties';
    case 'traits':
      return 'invalid_traits';
    case 'context':
      return 'invalid_context';
    case 'integrations':
      return 'invalid_integrations';
    default:
      return 'invalid_type';
  }
}

/**
 * Checks one raw event of a batch against `segmentEventSchema`. The envelope schema cannot do this: a batch is
 * accepted in part (DESIGN §2), so each event gets its own verdict instead of failing the request. The size
 * limit is checked here too, on the event's JSON text; ingest.ts `rowOf` checks it again on what the row stores.
 *
 * `bodyBytes`, the size of the body that carried the event as it was sent, spares that measurement when it is
 * within the limit: an event is never larger than its body. Measuring means serializing the event again,
 * which was about 8% of the gateway's busy CPU under load (node --cpu-prof), and browser batches are far
 * smaller than the per-event limit.
 */
export function validateEvent(raw: unknown, maxEventBytes: number, bodyBytes?: number): Validation {
  if (!isObject(raw)) return { ok: false, reason: 'not_an_object' };
  const withinBody = bodyBytes !== undefined && bodyBytes <= maxEventBytes;
  if (!withinBody) {
    const text = jsonOf(raw);
    if (text === undefined) return { ok: false, reason: 'too_deep' };
    if (Buffer.byteLength(text) > maxEventBytes) return { ok: false, reason: 'too_large' };
  }
  if (!check(raw)) {
    const reasons = new Set((check.errors ?? []).map(reasonOf));
    return { ok: false, reason: PRECEDENCE.find((r) => reasons.has(r)) ?? 'invalid_type' };
  }
  const type = raw.type as EventType;
  const messageId = raw.messageId;
  // A messageId is a string; an integer too large for a double reaches here as a marked string (bigIntegers.ts).
  if (typeof messageId === 'string' && isBigIntegerMark(messageId))
    return { ok: false, reason: 'invalid_message_id' };
  const anonymousId = idString(raw.anonymousId);
  const userId = idString(raw.userId);

  const valid: SegmentEvent = { type };
  if (typeof messageId === 'string') valid.messageId = messageId;
  // RudderStack sends the client's time as `originalTimestamp` and no `timestamp`.
  if (typeof raw.timestamp === 'string') valid.timestamp = raw.timestamp;
  else if (typeof raw.originalTimestamp === 'string') valid.timestamp = raw.originalTimestamp;
  if (typeof raw.sentAt === 'string') valid.sentAt = raw.sentAt;
  if (anonymousId !== undefined) valid.anonymousId = anonymousId;
  if (userId !== undefined) valid.userId = userId;
  if (type === 'track') valid.event = (raw.event as string).trim();
  if (type === 'page' || type === 'screen') {
    const name = idString(raw.name);
    if (name !== undefined) valid.name = name;
    const category = idString(raw.category);
    if (category !== undefined) valid.category = category;
  } else if (type === 'group') {
    const groupId = idString(raw.groupId);
    if (groupId !== undefined) valid.groupId = groupId;
  } else if (type === 'alias') {
    const previousId = idString(raw.previousId);
    if (previousId !== undefined) valid.previousId = previousId;
  }
  if (isObject(raw.properties)) valid.properties = raw.properties;
  if (isObject(raw.traits)) valid.traits = raw.traits;
  if (isObject(raw.context)) valid.context = raw.context as SegmentContext;
  if (isObject(raw.integrations)) valid.integrations = raw.integrations;
  const extra = extraFields(raw, valid);
  if (extra !== undefined) valid.extra = extra;
  return { ok: true, event: valid };
}

/**
 * The top-level fields of `raw` that `valid` does not carry into a column, so that they are kept as sent (the
 * `extra` column) instead of lost: fields Tidemark has no column for (analytics.js' `_metadata`, RudderStack's
 * `channel`), a call field of another call type (a track's `name`), an `originalTimestamp` beside a `timestamp`,
 * and an id field whose value could not be used (an object as `anonymousId` beside a valid `userId`). Left out:
 * `type`, the `writeKey` (a credential; the project it names is `project_id`), and nulls, which carry nothing.
 * Undefined when there is nothing, which is every event of the Tidemark SDK.
 */
function extraFields(raw: JsonObject, valid: SegmentEvent): JsonObject | undefined {
  let extra: JsonObject | undefined;
  for (const key in raw) {
    const value = raw[key];
    if (value === null || key === 'type' || key === 'writeKey') continue;
    if (key === 'originalTimestamp' ? valid.timestamp === value : carried(key, valid)) continue;
    if (extra === undefined) extra = {};
    extra[key] = value;
  }
  return extra;
}

/** Whether `valid` carries the field `key` into a column. */
function carried(key: string, valid: SegmentEvent): boolean {
  switch (key) {
    case 'messageId':
    case 'timestamp':
    case 'sentAt':
    case 'anonymousId':
    case 'userId':
    case 'event':
    case 'name':
    case 'category':
    case 'groupId':
    case 'previousId':
    case 'properties':
    case 'traits':
    case 'context':
    case 'integrations':
      return valid[key] !== undefined;
    default:
      return false;
  }
}

/** The client's messageId if it sent a usable one, for the `rejected` list. */
export function messageIdOf(raw: unknown): string | null {
  return isObject(raw) && typeof raw.messageId === 'string' && !isBigIntegerMark(raw.messageId)
    ? raw.messageId
    : null;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function idString(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'string' && value.trim() !== '') return value;
  return undefined;
}

/**
 * JSON text of a parsed value, or undefined when it is nested too deep to serialize. JSON.parse reads any depth,
 * but JSON.stringify recurses and throws a RangeError past some thousands of levels (the stack, not a fixed
 * number); an event like that is refused as `too_deep` instead of failing its request with a 500 (found by
 * chaos/scenarios/hostile.ts: 40 000 nested arrays in `properties`).
 */
export function jsonOf(value: unknown): string | undefined {
  try {
    return JSON.stringify(value) ?? 'null';
  } catch (error) {
    if (error instanceof RangeError) return undefined;
    throw error;
  }
}
