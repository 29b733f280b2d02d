import { fileURLToPath } from 'node:url';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import underPressure from '@fastify/under-pressure';
import type { EventRow } from '@tidemark/store';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Config } from './config.js';
import { GatewayError } from './errors.js';
import { createIngest } from './ingest.js';
import { createBroadcaster, type LiveBroadcaster } from './live/broadcaster.js';
import { createLogger } from './logger.js';
import { createGatewayMetrics, type GatewayMetrics } from './metrics.js';
import type { Regulator } from './people/regulator.js';
import { registerBodyParsing } from './plugins/bodyParsing.js';
import { clientErrorHandler, frameworkErrors, registerErrorHandler } from './plugins/errorHandler.js';
import { registerSecurityHeaders } from './plugins/securityHeaders.js';
import type { Project } from './projects.js';
import type { Reader } from './read/reader.js';
import type { ReadyQuery } from './read/readyQueries.js';
import { analyticsJsRoutes } from './routes/analyticsJs.js';
import { batchRoute } from './routes/batch.js';
import { dashboardRoute } from './routes/dashboard.js';
import { healthRoute, unshed } from './routes/health.js';
import { liveRoute } from './routes/live.js';
import { readRoutes } from './routes/read.js';
import { regulationRoutes } from './routes/regulations.js';
import { singleRoutes } from './routes/single.js';
import type { Transport } from './transport/types.js';
import { segmentEventSchema } from './validate.js';

export interface BuildDeps {
  /** Where accepted events go; the caller owns it (start.ts closes it when the app closes). */
  transport: Transport;
  /** A logger shared with other components (logger.ts); by default one is made at `config.logLevel`. */
  logger?: FastifyBaseLogger;
  /** Defaults to a fresh registry without process metrics (start.ts adds them). */
  metrics?: GatewayMetrics;
  /** The read API's ClickHouse access; required when `config.read.adminToken` is set. The caller closes it. */
  reader?: Reader;
  /** The ready queries of `GET /v1/queries`; none by default. */
  readyQueries?: readonly ReadyQuery[];
  /** The live feed's fan-out; a fresh one by default. */
  live?: LiveBroadcaster;
  /** Regulations (DESIGN §5b): the admin API and the drop of erased subjects' events; off when undefined. */
  regulator?: Regulator;
  /** Where the dashboard's static files are; beside this module by default (build.mjs copies them to dist/). */
  dashboardDir?: string;
}

/**
 * The gateway as a Fastify instance, without listening (STYLE: app separate from server), so tests use
 * `inject()` and start.ts decides where it listens.
 */
export function build(config: Config, deps: BuildDeps): FastifyInstance {
  const metrics = deps.metrics ?? createGatewayMetrics();
  const app = Fastify({
    loggerInstance: deps.logger ?? createLogger(config.logLevel),
    bodyLimit: config.limits.maxBatchBytes,
    // A hop count becomes proxy-addr's function form (Fastify's types list only the others).
    trustProxy:
      typeof config.trustProxy === 'number'
        ? (
            (hops) => (_address: string, hop: number) =>
              hop < hops
          )(config.trustProxy)
        : config.trustProxy,
    // Against slow clients: the whole request within 30 s, headers within 10 s, idle keep-alive closed
    // after 65 s (longer than common load balancers' 60 s, so they close first). Clients retry with the
    // same messageIds, so a cut request loses nothing.
    requestTimeout: 30_000,
    connectionTimeout: 60_000,
    keepAliveTimeout: 65_000,
    // Node checks those timeouts only every `connectionsCheckingInterval` (30 s by default), so a header timeout
    // of 10 s cut a slow client off after 10 to 40 s (found by chaos/scenarios/hostile.ts); checked each second,
    // it is 10 to 11 s.
    http: { connectionsCheckingInterval: 1_000 },
    clientErrorHandler,
    frameworkErrors,
    // Fastify parses JSON with secure-json-parse: `__proto__` and `constructor.prototype` keys are refused.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: true,
  });
  // Node's own limits for the request head: 16 KiB of headers (its default), sent within 10 s.
  app.server.headersTimeout = 10_000;

  const live = deps.live ?? createBroadcaster();
  // Open feeds would hold app.close() forever (a stream never ends on its own); preClose runs before the server
  // waits for in-flight requests, so each feed ends with an `end` message and the close proceeds.
  app.addHook('preClose', async () => live.close());

  registerErrorHandler(app);
  registerBodyParsing(app);
  countRequests(app, metrics);
  // An API's security headers; resources stay loadable cross-origin (beacons are no-cors requests).
  registerSecurityHeaders(app, {
    contentSecurityPolicy: { directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    crossOriginResourcePolicy: { policy: 'cross-origin' },
  });
  app.register(cors, {
    origin: corsOrigins(config),
    // Beacons and text/plain fetches need no preflight. analytics.js sends every event with `Authorization:
    // Basic`, so each needs one, and its retries add `X-Retry-Count`: both allowed, or the browser blocks them.
    methods: ['GET', 'POST', 'OPTIONS'],
    allowedHeaders: ['Content-Type', 'Authorization', 'Content-Encoding', 'X-Retry-Count'],
    exposedHeaders: ['Retry-After'],
    maxAge: 86_400,
  });
  // Load shedding before any work is done: a 503 with Retry-After the SDK honours, instead of a process
  // that runs out of heap or answers everyone late. Health, readiness and metrics are always answered.
  const { shedding } = config;
  app.register(underPressure, {
    maxEventLoopDelay: shedding.maxEventLoopDelayMs,
    ...(shedding.maxHeapUsedBytes > 0 ? { maxHeapUsedBytes: shedding.maxHeapUsedBytes } : {}),
    pressureHandler: async (_request: FastifyRequest, _reply: unknown, type: string) => {
      metrics.shed.inc({ cause: type });
      throw new GatewayError('overloaded');
    },
  });
  app.register(rateLimit, { global: false, cache: 10_000 });
  // The API description, generated from the routes' own JSON schemas, so it cannot drift from what is
  // validated: GET /openapi.json.
  app.register(swagger, {
    openapi: {
      info: {
        title: 'Tidemark gateway',
        version: '1',
        description:
          'The Segment HTTP Tracking API. Send the write key in the body (`writeKey`) or as the HTTP Basic user ' +
          'with an empty password. Bodies are JSON, sent as text/plain, application/json, ' +
          'application/x-www-form-urlencoded or without a Content-Type, optionally gzip- or deflate-encoded. ' +
          'A batch is accepted in part: each refused event is listed with its index, messageId and reason. ' +
          '429 and 503 answers carry Retry-After. The read API (tag `read`) takes the admin token as a Bearer ' +
          'token and is off (404 read_api_disabled) unless TIDEMARK_ADMIN_TOKEN is set.',
      },
      // 3.1: its schemas are JSON Schema, so the event schema the gateway validates with is published as is.
      openapi: '3.1.0',
      components: {
        securitySchemes: {
          basicAuth: { type: 'http', scheme: 'basic' },
          adminToken: {
            type: 'http',
            scheme: 'bearer',
            description: 'TIDEMARK_ADMIN_TOKEN, for the read API (/v1/sql, /v1/queries).',
          },
        },
        schemas: { SegmentEvent: segmentEventSchema as unknown as Record<string, unknown> },
      },
    },
  });

  // Probes log at warn at most, never louder than the app itself.
  const quiet = ['error', 'fatal', 'silent'].includes(config.logLevel) ? config.logLevel : 'warn';
  app.register(healthRoute, {
    mode: config.mode,
    transport: deps.transport,
    metrics,
    logLevel: quiet as 'warn',
  });
  app.get('/openapi.json', { schema: { hide: true }, config: unshed }, async () => app.swagger());
  // Not under the path prefix: that prefix is for first-party ingestion paths that dodge ad blockers.
  app.register(readRoutes, {
    adminToken: config.read.adminToken,
    reader: deps.reader,
    readyQueries: deps.readyQueries ?? [],
  });
  app.register(regulationRoutes, { adminToken: config.read.adminToken, regulator: deps.regulator });
  app.register(liveRoute, { adminToken: config.read.adminToken, live });
  app.register(dashboardRoute, {
    adminToken: config.read.adminToken,
    dir: deps.dashboardDir ?? fileURLToPath(new URL('./dashboard/', import.meta.url)),
  });
  app.register(
    async (scope) => {
      const { perIpPerMinute, perKeyPerMinute } = config.rateLimits;
      if (perIpPerMinute > 0) {
        // Counted before the body is read: a flood from one address costs no parsing.
        const perIp = scope.createRateLimit({ max: perIpPerMinute, timeWindow: 60_000 });
        scope.addHook('onRequest', async (request) => enforce(await perIp(request)));
      }
      const keyLimits = new WeakMap<FastifyRequest, { key: string; max: number }>();
      const perKey = scope.createRateLimit({
        timeWindow: 60_000,
        keyGenerator: (request) => `key:${keyLimits.get(request)?.key}`,
        max: (request) => keyLimits.get(request)?.max ?? perKeyPerMinute,
      });
      const limitKey = async (request: FastifyRequest, key: string, project: Project) => {
        const max = project.rateLimitPerMinute ?? perKeyPerMinute;
        if (max === 0) return;
        keyLimits.set(request, { key, max });
        enforce(await perKey(request));
      };
      const ingest = createIngest(config, {
        transport: deps.transport,
        metrics,
        limitKey,
        live,
        ...(deps.regulator ? { drops: (row: EventRow) => deps.regulator?.drops(row) ?? false } : {}),
      });
      await scope.register(batchRoute, { ingest });
      await scope.register(singleRoutes, { ingest });
      await scope.register(analyticsJsRoutes, {
        projects: config.projects,
        pathPrefix: config.pathPrefix,
        metrics,
      });
    },
    { prefix: config.pathPrefix },
  );
  return app;
}

/**
 * Origins a browser may send from: TIDEMARK_CORS_ORIGINS, plus every origin a project names in its
 * `allowedOrigins`. A preflight carries no write key, so it is answered for the union; the request itself is
 * then checked against its own key's origins (403 otherwise). Cached by browsers for a day (`maxAge`).
 */
function corsOrigins(config: Config): '*' | string[] {
  if (config.corsOrigins.includes('*')) return '*';
  const named = config.projects.flatMap((p) => (p.allowedOrigins ?? []).filter((o) => o !== '*'));
  return [...new Set([...config.corsOrigins, ...named])];
}

/** Turns a rate-limit verdict into a 429 whose Retry-After is when the window frees up. */
function enforce(verdict: { isAllowed: boolean; isExceeded?: boolean; ttlInSeconds?: number }): void {
  if (!verdict.isAllowed && verdict.isExceeded) {
    throw new GatewayError('rate_limited', { retryAfterSeconds: verdict.ttlInSeconds ?? 60 });
  }
}

/** Requests by route and status, their duration, and how many are in flight (GET /metrics). */
function countRequests(app: FastifyInstance, metrics: GatewayMetrics): void {
  const started = new WeakMap<FastifyRequest, number>();
  app.addHook('onRequest', async (request) => {
    started.set(request, performance.now());
    metrics.inFlight.inc();
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.inFlight.dec();
    metrics.requests.inc({ route, method: request.method, status: String(reply.statusCode) });
    const t = started.get(request);
    if (t !== undefined) metrics.requestSeconds.observe({ route }, (performance.now() - t) / 1000);
  });
  app.addHook('onRequestAbort', async (_request) => {
    metrics.inFlight.dec();
  });
}
