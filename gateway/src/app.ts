import cors from '@fastify/cors';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import { createIngest } from './ingest.js';
import { createLogger } from './logger.js';
import { registerBodyParsing } from './plugins/bodyParsing.js';
import { registerErrorHandler } from './plugins/errorHandler.js';
import { batchRoute } from './routes/batch.js';
import { healthRoute } from './routes/health.js';
import { singleRoutes } from './routes/single.js';
import type { Transport } from './transport/types.js';

export interface BuildDeps {
  /** Where accepted events go; the caller owns it (start.ts closes it when the app closes). */
  transport: Transport;
  /** A logger shared with other components (logger.ts); by default one is made at `config.logLevel`. */
  logger?: FastifyBaseLogger;
}

/**
 * The gateway as a Fastify instance, without listening (STYLE: app separate from server), so tests use
 * `inject()` and start.ts decides where it listens.
 */
export function build(config: Config, deps: BuildDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger ?? createLogger(config.logLevel),
    bodyLimit: config.limits.maxBatchBytes,
    // Clients retry on network errors with the same messageIds, so a slow body is cut rather than held.
    requestTimeout: 30_000,
  });

  registerErrorHandler(app);
  registerBodyParsing(app);
  app.register(cors, {
    origin: config.corsOrigins.includes('*') ? '*' : config.corsOrigins,
    // Beacons and text/plain fetches need no preflight; the methods and headers are allowed anyway for
    // senders that use application/json or Basic auth from a page.
    methods: ['GET', 'POST', 'OPTIONS'],
    allowedHeaders: ['Content-Type', 'Authorization', 'Content-Encoding'],
    exposedHeaders: ['Retry-After'],
    maxAge: 86_400,
  });

  const ingest = createIngest(config, deps.transport);
  app.register(healthRoute, { mode: config.mode });
  app.register(
    async (scope) => {
      await scope.register(batchRoute, { ingest });
      await scope.register(singleRoutes, { ingest });
    },
    { prefix: config.pathPrefix },
  );
  return app;
}
