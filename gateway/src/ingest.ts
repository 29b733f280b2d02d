import type { EventRow } from '@tidemark/store';
import type { FastifyRequest } from 'fastify';
import { writeKeyOf } from './auth.js';
import { hasBigIntegers, restoreBigIntegers } from './bigIntegers.js';
import type { Config } from './config.js';
import { normalize, type Receipt } from './enrich/normalize.js';
import { GatewayError } from './errors.js';
import { type LiveBroadcaster, toLiveEvent } from './live/broadcaster.js';
import { toMessages } from './messages.js';
import type { GatewayMetrics } from './metrics.js';
import { indexProjects, originAllowed, type Project } from './projects.js';
import type { JsonObject, SegmentEvent } from './segment.js';
import type { GatewayDeadLetter, Transport } from './transport/types.js';
import { jsonOf, messageIdOf, type RejectReason, validateEvent } from './validate.js';

/** One event the gateway refused, as listed in the response (and, later, on the dead-letter topic). */
export interface Rejected {
  /** Position in the request's `batch`. */
  index: number;
  /** The client's messageId when it sent one, so the SDK can drop exactly that event. */
  messageId: string | null;
  reason: RejectReason;
}

export interface IngestResult {
  accepted: number;
  rejected: Rejected[];
}

/** What a route extracted from its body: the events and the envelope around them. */
export interface IngestInput {
  writeKey: unknown;
  sentAt: unknown;
  /** The batch's `context` and `integrations`, merged under each event's (Segment's batch API). */
  context?: JsonObject | null | undefined;
  integrations?: JsonObject | null | undefined;
  /** The batch's `dropped` report as sent: counted when a non-negative integer, else ignored. */
  dropped?: unknown;
  events: unknown[];
  /**
   * Bytes of the JSON text the events arrived in, when they are part of it unchanged and its size is known
   * (plugins/bodyParsing.ts `sentBodyBytes`): no event is larger, so within the per-event limit none is measured
   * as sent (its stored row still is: `rowOf`).
   */
  bodyBytes?: number | undefined;
}

export type Ingest = (request: FastifyRequest, input: IngestInput) => Promise<IngestResult>;

export interface IngestDeps {
  transport: Transport;
  metrics: GatewayMetrics;
  /** Counts one request against the write key's limit; throws `rate_limited` (429) past it. */
  limitKey?: (request: FastifyRequest, writeKey: string, project: Project) => Promise<void>;
  /** The live feed (`GET /v1/live`): told about each accepted event once it is durable. */
  live?: LiveBroadcaster;
  /**
   * Whether an event belongs to a subject a regulation suppressed or erased (people/regulator.ts): it is
   * answered as accepted, so the client stops resending it, counted, and never reaches the transport.
   */
  drops?: (row: EventRow) => boolean;
}

/**
 * The gateway's one job, shared by every route: authenticate, validate each event, normalize the valid
 * ones, hand them to the transport together with the refused ones' dead letters, and report what was
 * accepted only after the transport made both durable. A body refused whole (too many events, none valid)
 * never reaches the transport.
 */
export function createIngest(config: Config, deps: IngestDeps): Ingest {
  const { transport, metrics } = deps;
  const projects = indexProjects(config.projects);
  const { maxEventBytes, maxBatchEvents } = config.limits;
  const { maxPendingEvents, deliverTimeoutMs } = config.shedding;
  let pending = 0;

  return async (request, input) => {
    // First, before the key or any event is looked at: a body within the size limit can hold 250 000 tiny
    // items, and every later step costs something per item.
    if (input.events.length > maxBatchEvents) {
      throw new GatewayError('too_many_events', {
        message: `The batch holds ${input.events.length} events; at most ${maxBatchEvents} are accepted in one request.`,
        details: { maxEvents: maxBatchEvents },
      });
    }
    const writeKey = writeKeyOf(request, input.writeKey);
    const project = writeKey === undefined ? undefined : projects.get(writeKey);
    if (writeKey === undefined || project === undefined) throw new GatewayError('invalid_write_key');
    if (!originAllowed(project, request.headers.origin)) throw new GatewayError('origin_not_allowed');
    await deps.limitKey?.(request, writeKey, project);
    // The producer backlog: past it, Kafka (or ClickHouse) is not keeping up, and queueing more in memory
    // only moves the failure to the heap. Refused before any work, retried by the client.
    if (pending + input.events.length > maxPendingEvents && pending > 0) {
      metrics.shed.inc({ cause: 'backlog' });
      throw new GatewayError('overloaded');
    }

    const receipt: Receipt = {
      projectId: project.id,
      receivedAtMs: Date.now(),
      sentAt: typeof input.sentAt === 'string' ? input.sentAt : undefined,
      userAgent: request.headers['user-agent'] ?? '',
      country: countryOf(request, config.countryHeader),
      skewThresholdMs: config.skewThresholdMs,
      context: input.context ?? undefined,
      integrations: input.integrations ?? undefined,
    };
    const rows: EventRow[] = [];
    const rejected: Rejected[] = [];
    const bigIntegers = hasBigIntegers(request);
    input.events.forEach((raw, index) => {
      const verdict = validateEvent(raw, maxEventBytes, input.bodyBytes);
      const row = verdict.ok ? rowOf(verdict.event, receipt, maxEventBytes, bigIntegers) : verdict.reason;
      if (typeof row === 'string') rejected.push({ index, messageId: messageIdOf(raw), reason: row });
      else rows.push(row);
    });
    // Counts (the refused events, the client's `dropped` report) are taken once the answer is a 200 or a 400
    // for nothing usable: the SDK forgets what it reported after either, but resends the same body after a 429
    // or 5xx, which must not count twice.
    const countDropped = () => {
      const dropped = input.dropped;
      if (typeof dropped === 'number' && Number.isSafeInteger(dropped) && dropped > 0) {
        metrics.clientDropped.inc({ project: project.id }, dropped);
      }
    };

    // A request in which nothing is usable is a client error, not a success with zero events: a 400 shows
    // up in the sender's error handling and monitoring, and its list says what was wrong with each event.
    // Nothing is dead-lettered for it: the answer already tells the sender everything, the metrics count it,
    // and a refusal that needs no transport costs next to nothing and can never turn into a 503 (which every
    // client would resend) when the transport is slow or down.
    if (rows.length === 0) {
      countRejected(metrics, rejected);
      countDropped();
      throw new GatewayError('no_valid_events', { details: { accepted: 0, rejected } });
    }

    // Suppressed and erased subjects (DESIGN §5b): after validation, so an invalid event is still answered as such.
    const suppressed = deps.drops === undefined ? 0 : dropSuppressed(rows, deps.drops);
    if (suppressed > 0) metrics.eventsSuppressed.inc({ project: project.id }, suppressed);
    if (rows.length === 0 && rejected.length === 0) {
      countDropped();
      return { accepted: suppressed, rejected };
    }

    // The refused events of a batch accepted in part are kept as dead letters: the 200 says which they were,
    // but a sender that only checks the status would never look.
    const at = new Date(receipt.receivedAtMs).toISOString();
    const letters: GatewayDeadLetter[] = rejected.map(({ index, messageId, reason }) => ({
      stage: 'gateway',
      reason,
      projectId: project.id,
      index,
      messageId,
      // A JSON string in place of a value too deep to serialize: the letter still says which event it was.
      raw: restoreBigIntegers(
        jsonOf(input.events[index]) ?? JSON.stringify('(nested too deep to serialize)'),
      ),
      at,
    }));

    // Valid events and dead letters are made durable together: if either fails the client gets a 503 and
    // resends the whole body, which repeats nothing but rows that event-id deduplication removes.
    const started = performance.now();
    const delivery = Promise.all([
      rows.length > 0 ? transport.deliver(toMessages(rows)) : undefined,
      letters.length > 0 ? transport.deadLetter(letters) : undefined,
    ]);
    // The backlog counts these events until the transport is done with them, also when the client was
    // answered first (below): the producer still holds them.
    pending += rows.length;
    metrics.pendingEvents.set(pending);
    const settled = () => {
      pending -= rows.length;
      metrics.pendingEvents.set(pending);
    };
    delivery.then(settled, settled);
    try {
      await withDeadline(delivery, deliverTimeoutMs);
    } catch (error) {
      throw error instanceof GatewayError
        ? error
        : new GatewayError('transport_unavailable', { cause: error });
    }
    metrics.deliverSeconds.observe((performance.now() - started) / 1000);
    // After the transport's ack, so the feed never shows an event the client will have to resend; publishing
    // only queues (a slow watcher is dropped, never waited for), and with nobody watching nothing is built.
    const live = deps.live;
    if (live !== undefined && live.size > 0) live.publish(rows.map(toLiveEvent));
    metrics.eventsAccepted.inc({ project: project.id }, rows.length);
    countRejected(metrics, rejected);
    countDropped();
    if (rejected.length > 0) request.log.info({ rejected }, 'events rejected');
    return { accepted: rows.length + suppressed, rejected };
  };
}

/** Removes the rows `drops` says to drop, in place; answers how many. */
function dropSuppressed(rows: EventRow[], drops: (row: EventRow) => boolean): number {
  const kept = rows.filter((row) => !drops(row));
  const dropped = rows.length - kept.length;
  if (dropped > 0) rows.splice(0, rows.length, ...kept);
  return dropped;
}

/** One counter update per reason, not per event: a batch of 2 000 refused events costs a handful. */
function countRejected(metrics: GatewayMetrics, rejected: Rejected[]): void {
  if (rejected.length === 0) return;
  const counts = new Map<RejectReason, number>();
  for (const r of rejected) counts.set(r.reason, (counts.get(r.reason) ?? 0) + 1);
  for (const [reason, count] of counts) metrics.eventsRejected.inc({ reason }, count);
}

/** The visitor's country from the trusted proxy header, when configured; ISO 3166 alpha-2 only. */
function countryOf(request: FastifyRequest, header: string): string {
  if (header === '') return '';
  const value = request.headers[header];
  const code = typeof value === 'string' ? value.trim().toUpperCase() : '';
  // Proxies answer XX for "unknown" (Cloudflare also T1 for Tor): neither is a country.
  return /^[A-Z]{2}$/.test(code) && code !== 'XX' ? code : '';
}

/**
 * `work`, or a rejection once `ms` have passed without it settling (0: no limit). A broker that is frozen
 * rather than down accepts connections and never answers, and the client's own retries would hold a request
 * for ~45 s; past the deadline the client gets the same 503 as for a broker that is down, and resends. The
 * delivery itself is not cancelled: if it lands after all, the resend's rows carry the same event ids, which
 * ClickHouse deduplicates (DESIGN §6.4).
 */
async function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  if (ms <= 0) return work;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the transport did not acknowledge within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The event's row, or why it cannot be stored: `too_deep` when its properties, traits or context are nested too
 * deep for JSON.stringify (validate.ts `jsonOf`; validation measures an event only when its body is over the
 * per-event limit, so a small deep one gets this far), `too_large` when the JSON the row stores for it is over
 * the per-event limit. That JSON can be longer than the client's: numbers are written again in JavaScript's
 * own form (`1e20` becomes `100000000000000000000`, `1e-6` becomes `0.000001`), so an event measured small as
 * sent, or not measured because its whole body was small, can grow many times over. Strings and whitespace
 * never grow, so the row's three JSON columns are what is measured, from their lengths in UTF-16 units alone
 * unless a non-ASCII text could tip the balance.
 */
export function rowOf(
  event: SegmentEvent,
  receipt: Receipt,
  maxEventBytes: number,
  bigIntegers = false,
): EventRow | RejectReason {
  let row: EventRow;
  try {
    row = normalize(event, receipt);
  } catch (error) {
    if (error instanceof RangeError) return 'too_deep';
    throw error;
  }
  if (bigIntegers) restoreRow(row);
  const units =
    row.properties.length +
    row.traits.length +
    row.library.length +
    row.context.length +
    row.integrations.length +
    row.extra.length;
  // A UTF-16 unit is at most 3 bytes of UTF-8, and at least 1.
  if (units * 3 <= maxEventBytes) return row;
  if (units > maxEventBytes) return 'too_large';
  const bytes =
    Buffer.byteLength(row.properties) +
    Buffer.byteLength(row.traits) +
    Buffer.byteLength(row.library) +
    Buffer.byteLength(row.context) +
    Buffer.byteLength(row.integrations) +
    Buffer.byteLength(row.extra);
  return bytes > maxEventBytes ? 'too_large' : row;
}

/** The row's text with each integer beyond 2^53 of its request's body back as its digits (bigIntegers.ts). */
function restoreRow(row: EventRow): void {
  const columns = row as unknown as Record<string, unknown>;
  for (const key in columns) {
    const value = columns[key];
    if (typeof value === 'string') columns[key] = restoreBigIntegers(value);
  }
}
