import type { EventRow } from '@tidemark/sink';
import type { FastifyRequest } from 'fastify';
import { writeKeyOf } from './auth.js';
import type { Config } from './config.js';
import { normalize, type Receipt } from './enrich/normalize.js';
import { GatewayError } from './errors.js';
import { type LiveBroadcaster, toLiveEvent } from './live/broadcaster.js';
import { toMessages } from './messages.js';
import type { GatewayMetrics } from './metrics.js';
import { indexProjects, originAllowed, type Project } from './projects.js';
import type { SegmentEvent } from './segment.js';
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
  /** The batch's `dropped` report as sent: counted when a non-negative integer, else ignored. */
  dropped?: unknown;
  events: unknown[];
  /**
   * Bytes of the JSON text the events arrived in, when they are part of it unchanged and its size is known
   * (plugins/bodyParsing.ts `sentBodyBytes`): no event is larger, so within the per-event limit none is measured.
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
}

/**
 * The gateway's one job, shared by every route: authenticate, validate each event, normalize the valid
 * ones, hand them to the transport together with the refused ones' dead letters, and report what was
 * accepted only after the transport made both durable.
 */
export function createIngest(config: Config, deps: IngestDeps): Ingest {
  const { transport, metrics } = deps;
  const projects = indexProjects(config.projects);
  const { maxEventBytes } = config.limits;
  const { maxPendingEvents, deliverTimeoutMs } = config.shedding;
  let pending = 0;

  return async (request, input) => {
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
    };
    const rows: EventRow[] = [];
    const rejected: Rejected[] = [];
    const letters: GatewayDeadLetter[] = [];
    const at = new Date(receipt.receivedAtMs).toISOString();
    input.events.forEach((raw, index) => {
      const verdict = validateEvent(raw, maxEventBytes, input.bodyBytes);
      let reason: RejectReason;
      if (verdict.ok) {
        const row = normalizeOrDeep(verdict.event, receipt);
        if (row !== undefined) {
          rows.push(row);
          return;
        }
        reason = 'too_deep';
      } else {
        reason = verdict.reason;
      }
      const messageId = messageIdOf(raw);
      rejected.push({ index, messageId, reason });
      letters.push({
        stage: 'gateway',
        reason,
        projectId: project.id,
        index,
        messageId,
        // A JSON string in place of a value too deep to serialize: the letter still says which event it was.
        raw: jsonOf(raw) ?? JSON.stringify('(nested too deep to serialize)'),
        at,
      });
    });

    // Valid events and dead letters are made durable together: if either fails the client gets a 503 and
    // resends the whole body, which repeats nothing but rows that event-id deduplication removes.
    const started = performance.now();
    const delivery = Promise.all([
      rows.length > 0 ? transport.deliver(toMessages(rows)) : undefined,
      transport.deadLetter(letters),
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
    if (live !== undefined && live.size > 0 && rows.length > 0) live.publish(rows.map(toLiveEvent));
    if (rows.length > 0) metrics.eventsAccepted.inc({ project: project.id }, rows.length);
    for (const r of rejected) metrics.eventsRejected.inc({ reason: r.reason });
    // Counted here, once the answer is a 200 or a 400 for nothing usable: the SDK forgets what it reported
    // after either, but resends the same count with the events after a 429 or 5xx, which must not count twice.
    const dropped = input.dropped;
    if (typeof dropped === 'number' && Number.isSafeInteger(dropped) && dropped > 0) {
      metrics.clientDropped.inc({ project: project.id }, dropped);
    }

    // A request in which nothing is usable is a client error, not a success with zero events: a 400 shows
    // up in the sender's error handling and monitoring, while the list still says what was wrong with each
    // event (each also kept as a dead letter). The SDK drops invalid events either way.
    if (rows.length === 0) {
      throw new GatewayError('no_valid_events', { details: { accepted: 0, rejected } });
    }
    if (rejected.length > 0) request.log.info({ rejected }, 'events rejected');
    return { accepted: rows.length, rejected };
  };
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
 * The event's row, or undefined when its properties, traits or context are nested too deep for JSON.stringify
 * (validate.ts `jsonOf`); validation measures an event only when its body is over the per-event limit, so a small
 * deep one gets this far.
 */
function normalizeOrDeep(event: SegmentEvent, receipt: Receipt): EventRow | undefined {
  try {
    return normalize(event, receipt);
  } catch (error) {
    if (error instanceof RangeError) return undefined;
    throw error;
  }
}
