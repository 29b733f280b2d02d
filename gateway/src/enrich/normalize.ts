import type { EventRow } from '@tidemark/store';
import type { EventType, JsonObject, SegmentEvent } from '../segment.js';
import { botReason } from './bot.js';
import { eventIdFor } from './eventId.js';
import { correctTimestamp, formatDateTime64, parseTimestamp } from './time.js';
import { hostOf, splitUrl, utmParams } from './url.js';
import { parseUserAgent } from './userAgent.js';

/** What the gateway knows about the request that carried an event. */
export interface Receipt {
  projectId: string;
  /** Gateway clock when the request arrived, ms since the epoch. */
  receivedAtMs: number;
  /** The batch envelope's `sentAt`, used when an event has none of its own. */
  sentAt: string | undefined;
  /** The request's User-Agent header; `context.userAgent` wins when the event has one. */
  userAgent: string;
  /** From the configured trusted proxy header, `''` otherwise. */
  country: string;
  /** DESIGN §3 skew threshold. */
  skewThresholdMs: number;
  /** The batch's `context`, merged under every event's own (the event's values win). */
  context?: JsonObject | undefined;
  /** The batch's `integrations`, merged the same way. */
  integrations?: JsonObject | undefined;
}

const EVENT_NAMES: Record<Exclude<EventType, 'track'>, string> = {
  page: '$pageview',
  screen: '$screen',
  identify: '$identify',
  group: '$group',
  alias: '$alias',
};

/** What normalize derives from a receipt: the same for every event of a request, so worked out once. */
interface ReceiptTimes {
  receipt: Receipt;
  /** The envelope's `sentAt`, parsed. */
  sentAtMs: number | undefined;
  /** `received_at` as DateTime64 text. */
  receivedAt: string;
  /** `sent_at` of an event without a `sentAt` of its own, as DateTime64 text. */
  sentAt: string;
}

// The receipt of the request being normalized: ingest makes one per request, never changes it, and
// normalizes the request's events in one synchronous loop, so this is found again for all but the first.
let current: ReceiptTimes | undefined;

function timesOf(receipt: Receipt): ReceiptTimes {
  if (current?.receipt !== receipt) {
    const sentAtMs = parseOptional(receipt.sentAt);
    const receivedAt = formatDateTime64(receipt.receivedAtMs);
    current = {
      receipt,
      sentAtMs,
      receivedAt,
      sentAt: sentAtMs === undefined ? receivedAt : formatDateTime64(sentAtMs),
    };
  }
  return current;
}

/** Turns one validated Segment event into the row stored in `tidemark.events` (DESIGN §5). */
export function normalize(event: SegmentEvent, receipt: Receipt): EventRow {
  const context: JsonObject =
    receipt.context === undefined ? (event.context ?? {}) : merged(receipt.context, event.context);
  const integrations =
    receipt.integrations === undefined
      ? event.integrations
      : merged(receipt.integrations, event.integrations);
  const properties = event.properties ?? {};
  const eventId = eventIdFor(receipt.projectId, event.messageId);
  const extra = withConflicts(event, properties, event.extra);
  // analytics.js copies the page fields into a page call's properties; other calls only have context.page.
  const page = pageFields(event.type === 'page' ? properties : undefined, asObject(context.page));

  const url = page.url ?? '';
  const parts = splitUrl(url);
  const query = parts.query || (page.search ?? '').replace(/^\?/, '');
  const params = utmParams(query);
  const campaign = asObject(context.campaign);
  const referrer = page.referrer ?? '';

  const times = timesOf(receipt);
  const receivedAt = receipt.receivedAtMs;
  const sentAtMs = event.sentAt === undefined ? times.sentAtMs : parseTimestamp(event.sentAt);
  const clientMs = parseOptional(event.timestamp) ?? receivedAt;
  const timestampMs = event.timestamp
    ? correctTimestamp(clientMs, sentAtMs, receivedAt, receipt.skewThresholdMs)
    : receivedAt;

  // Most events keep their client time (no large skew): each distinct time is formatted once.
  const clientTs = clientMs === receivedAt ? times.receivedAt : formatDateTime64(clientMs);

  const userAgent = text(context.userAgent) || receipt.userAgent;
  const agent = parseUserAgent(userAgent);
  const screen = asObject(context.screen);

  // One literal with every column, in the table's order: no spreads, so each row is built in one go.
  return {
    project_id: receipt.projectId,
    event_id: eventId,
    type: event.type,
    event: event.type === 'track' ? (event.event ?? '') : EVENT_NAMES[event.type],
    timestamp:
      timestampMs === clientMs
        ? clientTs
        : timestampMs === receivedAt
          ? times.receivedAt
          : formatDateTime64(timestampMs),
    // Without a client time or sentAt, the receipt stands in: DateTime64 columns have no empty value.
    client_ts: clientTs,
    sent_at:
      event.sentAt === undefined
        ? times.sentAt
        : sentAtMs === undefined
          ? times.receivedAt
          : formatDateTime64(sentAtMs),
    received_at: times.receivedAt,
    anonymous_id: event.anonymousId ?? '',
    user_id: event.userId ?? '',
    session_id: text(context.sessionId),
    url,
    host: parts.host,
    path: parts.path || (page.path ?? ''),
    query,
    title: page.title ?? '',
    referrer,
    referrer_host: hostOf(referrer),
    utm_source: text(campaign.source) || (params?.get('utm_source') ?? ''),
    utm_medium: text(campaign.medium) || (params?.get('utm_medium') ?? ''),
    utm_campaign: text(campaign.name) || (params?.get('utm_campaign') ?? ''),
    utm_term: text(campaign.term) || (params?.get('utm_term') ?? ''),
    utm_content: text(campaign.content) || (params?.get('utm_content') ?? ''),
    browser: agent.browser,
    browser_version: agent.browser_version,
    os: agent.os,
    device_type: agent.device_type,
    country: receipt.country,
    locale: text(context.locale),
    screen_width: pixels(screen.width),
    screen_height: pixels(screen.height),
    bot_reason: botReason(userAgent),
    properties: JSON.stringify(withCallFields(event, properties)),
    traits: JSON.stringify(event.traits ?? asObject(context.traits)),
    library: JSON.stringify(asObject(context.library)),
    message_id: event.messageId ?? eventId,
    context: JSON.stringify('ip' in context ? withoutIp(context) : context),
    integrations: integrations === undefined ? '{}' : JSON.stringify(integrations),
    extra: extra === undefined ? '{}' : JSON.stringify(extra),
  };
}

/**
 * `inner` merged over `outer`, as Segment merges a batch's context and integrations into each event's: a key of
 * both whose values are both objects is merged the same way, any other value of `inner` wins.
 */
export function merged(outer: JsonObject, inner: JsonObject | undefined): JsonObject {
  if (inner === undefined) return outer;
  const result: JsonObject = { ...outer };
  for (const key in inner) {
    const value = inner[key];
    const under = result[key];
    result[key] = isPlainObject(value) && isPlainObject(under) ? merged(under, value) : value;
  }
  return result;
}

/** The context without the client's IP address, which Tidemark never stores (DESIGN §3). */
function withoutIp(context: JsonObject): JsonObject {
  const { ip: _, ...rest } = context;
  return rest;
}

function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The Kafka key that keeps one visitor's events in order on one partition (DESIGN §4). */
export function visitorKey(row: EventRow): string {
  return `${row.project_id}:${row.anonymous_id || row.user_id}`;
}

/**
 * Fields of a call that have no column of their own go into properties, unless the client already set them
 * there, so nothing a client sent is silently lost: a page or screen `name` and `category`, a group's `groupId`,
 * an alias's `previousId`. Where properties hold the key with another value, `withConflicts` keeps the call's
 * own value in `extra`.
 */
function withCallFields(event: SegmentEvent, properties: JsonObject): JsonObject {
  const fields = callFields(event);
  return fields === undefined ? properties : { ...fields, ...properties };
}

/** `extra` with each call field whose property of the same name holds another value. */
function withConflicts(event: SegmentEvent, properties: JsonObject, extra: JsonObject | undefined) {
  const fields = callFields(event);
  if (fields === undefined) return extra;
  let result = extra;
  for (const key in fields) {
    const own = properties[key];
    if (own === undefined || own === fields[key]) continue;
    result = { ...result, [key]: fields[key] };
  }
  return result;
}

/** The call fields an event has (see withCallFields), or undefined when none. */
function callFields(event: SegmentEvent): JsonObject | undefined {
  switch (event.type) {
    case 'page':
    case 'screen':
      if (event.name === undefined && event.category === undefined) return undefined;
      return event.category === undefined
        ? { name: event.name }
        : event.name === undefined
          ? { category: event.category }
          : { name: event.name, category: event.category };
    case 'group':
      return event.groupId === undefined ? undefined : { groupId: event.groupId };
    case 'alias':
      return event.previousId === undefined ? undefined : { previousId: event.previousId };
    default:
      return undefined;
  }
}

type PageFields = Partial<Record<'url' | 'path' | 'referrer' | 'title' | 'search', string>>;
const PAGE_FIELDS = ['url', 'path', 'referrer', 'title', 'search'] as const;

/**
 * The string-valued, non-empty page fields of `page`, each falling back to the same field of `fallback`;
 * anything else is ignored.
 */
function pageFields(fallback: JsonObject | undefined, page: JsonObject): PageFields {
  const fields: PageFields = {};
  for (const key of PAGE_FIELDS) {
    const value = page[key];
    if (typeof value === 'string' && value !== '') fields[key] = value;
    else if (fallback !== undefined) {
      const other = fallback[key];
      if (typeof other === 'string' && other !== '') fields[key] = other;
    }
  }
  return fields;
}

function asObject(value: unknown): JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : {};
}

function text(value: unknown): string {
  if (typeof value === 'string') return value;
  return typeof value === 'number' && Number.isFinite(value) ? String(value) : '';
}

/** Screen sizes are UInt32 columns: anything that is not a sane non-negative number becomes 0. */
function pixels(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0
    ? Math.min(Math.round(value), 2 ** 32 - 1)
    : 0;
}

function parseOptional(value: string | undefined): number | undefined {
  return value === undefined ? undefined : parseTimestamp(value);
}
