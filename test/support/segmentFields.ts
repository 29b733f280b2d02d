import type { ClickHouse } from '@tidemark/store';
import { expect } from 'vitest';

type Json = Record<string, unknown>;

/** The stored columns a Segment event's fields go to (DESIGN §5, migration 020). */
export interface SegmentRow {
  type: string;
  event: string;
  message_id: string;
  anonymous_id: string;
  user_id: string;
  client_ts: string;
  sent_at: string;
  properties: string;
  traits: string;
  context: string;
  integrations: string;
  extra: string;
}

/** The stored rows of these messageIds, by messageId. */
export async function segmentRows(ch: ClickHouse, messageIds: string[]): Promise<Map<string, SegmentRow>> {
  const rows = await ch.query<SegmentRow>(
    `SELECT type, event, message_id, anonymous_id, user_id, toString(client_ts) AS client_ts,
            toString(sent_at) AS sent_at, properties, traits, context, integrations, extra
     FROM tidemark.events FINAL WHERE message_id IN {ids:Array(String)}`,
    { ids: messageIds },
  );
  return new Map(rows.map((r) => [r.message_id, r]));
}

// Integer literals of 16 digits or more, turned into strings on both sides of a comparison so that a value rounded
// on its way (1234567890123456789 → 1234567890123456800) differs from what was sent instead of rounding alike.
const LONG_INTEGER = /(?<=[:[,]\s*)(-?\d{16,})(?=\s*[,\]}])/g;

/** JSON.parse that keeps long integers as their digits (as strings), for comparisons. */
export function parseLossless(text: string): unknown {
  return JSON.parse(text.replace(LONG_INTEGER, '"$1"'));
}

/** The events of a recorded request body: a batch's items with its envelope, or the one event of a single call. */
export function eventsOf(body: string, pathType?: string): { envelope: Json; events: Json[] } {
  const parsed = parseLossless(body) as Json;
  if (Array.isArray(parsed.batch)) return { envelope: parsed, events: parsed.batch as Json[] };
  return { envelope: {}, events: [pathType ? { ...parsed, type: pathType } : parsed] };
}

/**
 * Checks that every top-level field of `sent` (one event as a client put it on the wire, with the envelope of its
 * batch) is stored: in its column, in properties (a page's name and category, a group's groupId, an alias's
 * previousId), in context, integrations, or in extra. A field this function does not place must be in extra, so a
 * field a client adds tomorrow is checked too. The write key is the one field not stored (it names project_id).
 */
export function expectEveryFieldStored(sent: Json, envelope: Json, row: SegmentRow | undefined, who: string) {
  expect(row, `${who}: no stored row for messageId ${String(sent.messageId)}`).toBeDefined();
  if (row === undefined) return;
  const type = String(sent.type);
  const expected: Json = {};
  const actual: Json = {};
  const properties = { ...((sent.properties as Json | undefined) ?? {}) };
  const extra: Json = {};
  const callFields =
    type === 'page' || type === 'screen'
      ? ['name', 'category']
      : type === 'group'
        ? ['groupId']
        : type === 'alias'
          ? ['previousId']
          : [];
  const hasTimestamp = typeof sent.timestamp === 'string';
  for (const [key, value] of Object.entries(sent)) {
    if (value === null || key === 'writeKey') continue;
    switch (key) {
      case 'type':
        expected.type = value;
        actual.type = row.type;
        break;
      case 'messageId':
        expected.message_id = value;
        actual.message_id = row.message_id;
        break;
      case 'anonymousId':
      case 'userId':
        expected[key] = String(value);
        actual[key] = key === 'userId' ? row.user_id : row.anonymous_id;
        break;
      case 'event':
        if (type !== 'track') extra[key] = value;
        else {
          expected.event = value;
          actual.event = row.event;
        }
        break;
      case 'timestamp':
      case 'originalTimestamp':
        if (key === 'originalTimestamp' && hasTimestamp) extra[key] = value;
        else {
          expected.client_ts = clickHouseTime(String(value));
          actual.client_ts = row.client_ts;
        }
        break;
      case 'sentAt':
        expected.sent_at = clickHouseTime(String(value));
        actual.sent_at = row.sent_at;
        break;
      case 'properties':
      case 'traits':
        break;
      case 'context':
      case 'integrations':
        break;
      default:
        if (callFields.includes(key)) {
          if (properties[key] === undefined) properties[key] = String(value);
          else if (properties[key] !== value) extra[key] = value;
        } else extra[key] = value;
    }
  }
  if (sent.sentAt === undefined && typeof envelope.sentAt === 'string') {
    expected.sent_at = clickHouseTime(envelope.sentAt);
    actual.sent_at = row.sent_at;
  }
  expected.properties = properties;
  actual.properties = parseLossless(row.properties);
  expected.traits = sent.traits ?? (sent.context as Json | undefined)?.traits ?? {};
  actual.traits = parseLossless(row.traits);
  const { ip: _ip, ...context } = merged(
    envelope.context as Json | undefined,
    sent.context as Json | undefined,
  );
  expected.context = context;
  actual.context = parseLossless(row.context);
  expected.integrations = merged(
    envelope.integrations as Json | undefined,
    sent.integrations as Json | undefined,
  );
  actual.integrations = parseLossless(row.integrations);
  expected.extra = extra;
  actual.extra = parseLossless(row.extra);
  expect(actual, `${who}: the stored row of ${type} ${String(sent.messageId)}`).toEqual(expected);
}

/** A client's ISO time as ClickHouse prints a DateTime64(3, 'UTC'); one-digit months and days as Segment allows. */
function clickHouseTime(iso: string): string {
  const padded = iso.replace(
    /^(\d{4})-(\d{1,2})-(\d{1,2})/,
    (_, y, m, d) => `${y}-${m.padStart(2, '0')}-${d.padStart(2, '0')}`,
  );
  const ms = Date.parse(padded);
  expect(Number.isNaN(ms), `a sent time the test cannot read: ${iso}`).toBe(false);
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

/** Segment's merge of a batch-level object under an event's: objects merged key by key, the event's values win. */
function merged(outer: Json | undefined, inner: Json | undefined): Json {
  const result: Json = { ...(outer ?? {}) };
  for (const [key, value] of Object.entries(inner ?? {})) {
    const under = result[key];
    result[key] = isObject(value) && isObject(under) ? merged(under, value) : value;
  }
  return result;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
