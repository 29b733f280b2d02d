/**
 * One normalized event, exactly as the gateway writes it and ClickHouse reads it (DESIGN §5).
 *
 * Keys are the `tidemark.events` column names, so `JSON.stringify(row) + '\n'` is one JSONEachRow line that
 * the sink inserts without re-parsing. Conventions: DateTime64 values are UTC strings in ClickHouse's basic
 * format `YYYY-MM-DD hh:mm:ss.mmm`; a missing string is `''`; a missing number is `0`.
 *
 * The lineage columns `_partition`, `_offset` and `_inserted_at` are not here: the sink owns them. Nor is
 * `visitor_number`: the writer of the row adds it (visitorNumbers.ts).
 */
export type EventRow = {
  /** Project the write key belongs to; the first column of the sort key. */
  project_id: string;
  /** The event's `messageId` (a UUID, v7 from the SDK); ReplacingMergeTree deduplicates on it. */
  event_id: string;
  /** Segment call type: `track`, `page`, `screen`, `identify`, `group` or `alias`. */
  type: string;
  /** Track event name; `$pageview` for page, `$identify`, `$group`, `$alias` for those calls. */
  event: string;
  /** When the event happened: the client clock, shifted by the measured skew only when it is large. */
  timestamp: string;
  /** The event's timestamp exactly as the client sent it. */
  client_ts: string;
  /** The batch's `sentAt` from the client clock; `timestamp` is corrected against it. */
  sent_at: string;
  /** When the gateway received the request, by the gateway's clock. */
  received_at: string;
  /** The SDK's anonymous visitor id. */
  anonymous_id: string;
  /** The identified user id, `''` when anonymous. */
  user_id: string;
  /** The SDK's session id (`context.sessionId`). */
  session_id: string;
  /** Full page URL (`context.page.url`). */
  url: string;
  /** Host part of `url`. */
  host: string;
  /** Path part of `url`. */
  path: string;
  /** Query string of `url`, without the leading `?`. */
  query: string;
  /** Page title. */
  title: string;
  /** Full referrer URL. */
  referrer: string;
  /** Host part of `referrer`. */
  referrer_host: string;
  /** `utm_source` from the URL or `context.campaign.source`. */
  utm_source: string;
  /** `utm_medium` from the URL or `context.campaign.medium`. */
  utm_medium: string;
  /** `utm_campaign` from the URL or `context.campaign.name`. */
  utm_campaign: string;
  /** `utm_term` from the URL or `context.campaign.term`. */
  utm_term: string;
  /** `utm_content` from the URL or `context.campaign.content`. */
  utm_content: string;
  /** Browser name parsed from the User-Agent. */
  browser: string;
  /** Browser version parsed from the User-Agent. */
  browser_version: string;
  /** Operating system parsed from the User-Agent. */
  os: string;
  /** `desktop`, `mobile`, `tablet`, … parsed from the User-Agent. */
  device_type: string;
  /** ISO country code from a trusted proxy header, `''` when not configured. */
  country: string;
  /** `context.locale`, e.g. `en-US`. */
  locale: string;
  /** Screen width in CSS pixels, `0` when unknown. */
  screen_width: number;
  /** Screen height in CSS pixels, `0` when unknown. */
  screen_height: number;
  /** Why the gateway thinks this is a bot, `''` for humans; flagged, never dropped. */
  bot_reason: string;
  /** The event's `properties` as a JSON string. */
  properties: string;
  /** The event's `traits` (identify/group) as a JSON string. */
  traits: string;
  /** `context.library` (`{name, version}`) as a JSON string. */
  library: string;
  /** The event's `messageId` exactly as sent; the event_id's text when the client sent none (020). */
  message_id: string;
  /** The event's whole `context` merged over the batch's, as a JSON string, without `ip` (020). */
  context: string;
  /** The event's `integrations` merged over the batch's, as a JSON string (020). */
  integrations: string;
  /** Top-level fields of the event no other column holds, as a JSON object string; `{}` when none (020). */
  extra: string;
};
