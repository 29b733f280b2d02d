/**
 * The Segment HTTP Tracking API as Tidemark reads it (DESIGN §2). Only what the gateway uses is typed;
 * anything else a client sends inside `properties`, `traits` or `context` is kept or ignored, never an error.
 */

export const EVENT_TYPES = ['track', 'page', 'screen', 'identify', 'group', 'alias'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** A plain JSON object (not an array, not null). */
export type JsonObject = Record<string, unknown>;

/** The body of `POST /v1/batch`. */
export interface BatchBody {
  writeKey?: string;
  /** Client clock when the batch left; with `received_at` it measures clock skew. */
  sentAt?: string;
  /**
   * Events the client deleted unsent since its last delivered batch because its local queue was over its
   * caps (the Tidemark SDK sends it when not 0). Not Segment's; counted only when a non-negative integer.
   */
  dropped?: unknown;
  /** Context for every event of the batch, merged under each event's own (its values win), as Segment does. */
  context?: JsonObject | null;
  /** Integrations for every event of the batch, merged under each event's own the same way. */
  integrations?: JsonObject | null;
  /** Events, each validated on its own: one bad event never sinks the batch. */
  batch: unknown[];
}

/** One event after validation: the fields the gateway relies on have the right types. */
export interface SegmentEvent {
  type: EventType;
  /** Client id of the event; resends carry the same one, which is what deduplicates them. */
  messageId?: string;
  /** Client clock when the event happened (ISO 8601); RudderStack's `originalTimestamp` when it sent no `timestamp`. */
  timestamp?: string;
  /** Per-event sentAt (analytics.js sets it on each event); wins over the batch's. */
  sentAt?: string;
  anonymousId?: string;
  userId?: string;
  /** Track event name. */
  event?: string;
  /** Page or screen name. */
  name?: string;
  /** Page or screen category. */
  category?: string;
  /** Group calls. */
  groupId?: string;
  /** Alias calls. */
  previousId?: string;
  properties?: JsonObject;
  traits?: JsonObject;
  context?: SegmentContext;
  /** Which destinations the sender meant the event for (Segment's `integrations`). */
  integrations?: JsonObject;
  /** The event's other top-level fields, which no column holds (`_metadata`, `channel`, …), kept as sent. */
  extra?: JsonObject;
}

export interface SegmentContext {
  page?: { url?: unknown; path?: unknown; referrer?: unknown; title?: unknown; search?: unknown };
  userAgent?: unknown;
  locale?: unknown;
  timezone?: unknown;
  screen?: { width?: unknown; height?: unknown };
  library?: unknown;
  sessionId?: unknown;
  campaign?: { source?: unknown; medium?: unknown; name?: unknown; term?: unknown; content?: unknown };
  traits?: unknown;
  [key: string]: unknown;
}
