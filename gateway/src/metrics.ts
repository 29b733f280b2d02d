import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The gateway's Prometheus metrics, one registry per app so tests and several apps in a process stay apart. */
export interface GatewayMetrics {
  registry: Registry;
  /**
   * What `GET /metrics` serves, when it is not `registry`'s own text: a worker of several (cluster.ts) serves
   * every worker's, summed.
   */
  exposition?: () => Promise<string>;
  /** Answers by route pattern (`/v1/batch`, `unmatched`), method and status code. */
  requests: Counter<'route' | 'method' | 'status'>;
  requestSeconds: Histogram<'route'>;
  inFlight: Gauge;
  /** Events handed to the transport and acknowledged by it, by project. */
  eventsAccepted: Counter<'project'>;
  /** Events of suppressed or erased subjects, answered 200 and dropped before the transport (DESIGN §5b). */
  eventsSuppressed: Counter<'project'>;
  /** Events refused, by the reason listed in the response. */
  eventsRejected: Counter<'reason'>;
  /** Time for the transport to make a request's events durable (Kafka acks=all, or the chDB insert). */
  deliverSeconds: Histogram;
  /** Events handed to the transport and not yet acknowledged: the producer backlog that shedding watches. */
  pendingEvents: Gauge;
  /** Requests refused to protect the process, by cause (event loop, heap, backlog). */
  shed: Counter<'cause'>;
  /**
   * Events clients deleted unsent because their local queue was over its caps, as they report them in a
   * batch's `dropped` field, by project: losses that happened before the gateway could see the events.
   */
  clientDropped: Counter<'project'>;
  /** Counter series analytics.js posted about itself to `/v1/m` (read, counted, not stored). */
  clientMetrics: Counter;
}

export function createGatewayMetrics(opts: { processMetrics?: boolean } = {}): GatewayMetrics {
  const registry = new Registry();
  if (opts.processMetrics) collectDefaultMetrics({ register: registry, prefix: 'tidemark_gateway_' });
  const registers = [registry];
  return {
    registry,
    requests: new Counter({
      name: 'tidemark_gateway_requests_total',
      help: 'HTTP answers by route, method and status.',
      labelNames: ['route', 'method', 'status'],
      registers,
    }),
    requestSeconds: new Histogram({
      name: 'tidemark_gateway_request_duration_seconds',
      help: 'Time from request to answer, by route.',
      labelNames: ['route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    inFlight: new Gauge({
      name: 'tidemark_gateway_requests_in_flight',
      help: 'Requests received and not yet answered.',
      registers,
    }),
    eventsSuppressed: new Counter({
      name: 'tidemark_gateway_events_suppressed_total',
      help: 'Events of subjects a regulation suppressed or erased, answered 200 and dropped before the transport.',
      labelNames: ['project'],
      registers,
    }),
    eventsAccepted: new Counter({
      name: 'tidemark_gateway_events_accepted_total',
      help: 'Events made durable by the transport, by project.',
      labelNames: ['project'],
      registers,
    }),
    eventsRejected: new Counter({
      name: 'tidemark_gateway_events_rejected_total',
      help: 'Events refused by validation, by reason (each also written to the dead-letter topic).',
      labelNames: ['reason'],
      registers,
    }),
    deliverSeconds: new Histogram({
      name: 'tidemark_gateway_produce_duration_seconds',
      help: 'Time for the transport to acknowledge one request’s events (Kafka acks=all, or the chDB insert).',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    pendingEvents: new Gauge({
      name: 'tidemark_gateway_pending_events',
      help: 'Events handed to the transport and not yet acknowledged (the producer backlog).',
      registers,
    }),
    shed: new Counter({
      name: 'tidemark_gateway_shed_total',
      help: 'Requests answered 503 overloaded, by cause.',
      labelNames: ['cause'],
      registers,
    }),
    clientDropped: new Counter({
      name: 'tidemark_gateway_client_dropped_events_total',
      help: 'Events clients reported deleting unsent (the batch field `dropped`), by project.',
      labelNames: ['project'],
      registers,
    }),
    clientMetrics: new Counter({
      name: 'tidemark_gateway_client_metrics_total',
      help: 'Series analytics.js posted about its own health to /v1/m (counted, not stored).',
      registers,
    }),
  };
}
