import type { EventRow } from '@tidemark/sink';
import type { FastifyRequest } from 'fastify';
import { writeKeyOf } from './auth.js';
import type { Config } from './config.js';
import { normalize, type Receipt } from './enrich/normalize.js';
import { GatewayError } from './errors.js';
import { toMessages } from './messages.js';
import { indexProjects, originAllowed } from './projects.js';
import type { Transport } from './transport/types.js';
import { messageIdOf, type RejectReason, validateEvent } from './validate.js';

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
  events: unknown[];
}

export type Ingest = (request: FastifyRequest, input: IngestInput) => Promise<IngestResult>;

/**
 * The gateway's one job, shared by every route: authenticate, validate each event, normalize the valid
 * ones, hand them to the transport, and report what was accepted only after the transport made it durable.
 */
export function createIngest(config: Config, transport: Transport): Ingest {
  const projects = indexProjects(config.projects);
  const { maxEventBytes } = config.limits;

  return async (request, input) => {
    const writeKey = writeKeyOf(request, input.writeKey);
    const project = writeKey === undefined ? undefined : projects.get(writeKey);
    if (project === undefined) throw new GatewayError('invalid_write_key');
    if (!originAllowed(project, request.headers.origin)) throw new GatewayError('origin_not_allowed');

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
    input.events.forEach((raw, index) => {
      const verdict = validateEvent(raw, maxEventBytes);
      if (verdict.ok) rows.push(normalize(verdict.event, receipt));
      else rejected.push({ index, messageId: messageIdOf(raw), reason: verdict.reason });
    });

    // A request in which nothing is usable is a client error, not a success with zero events: a 400 shows
    // up in the sender's error handling and monitoring, while the list still says what was wrong with each
    // event. The SDK drops invalid events either way, so nothing retries forever.
    if (rows.length === 0) {
      throw new GatewayError('no_valid_events', { details: { accepted: 0, rejected } });
    }
    try {
      await transport.deliver(toMessages(rows));
    } catch (error) {
      throw error instanceof GatewayError
        ? error
        : new GatewayError('transport_unavailable', { cause: error });
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
