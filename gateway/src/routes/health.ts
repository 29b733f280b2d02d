import type { FastifyPluginAsync } from 'fastify';
import type { Mode } from '../config.js';

/**
 * `GET /healthz`: the process is up and serving. It does not probe Kafka or ClickHouse on every call:
 * a failing transport already shows as 503s on the ingestion routes, and a load balancer that drained
 * every gateway during a Kafka blip would turn a retriable outage into a total one.
 */
export const healthRoute: FastifyPluginAsync<{ mode: Mode }> = async (app, { mode }) => {
  app.get(
    '/healthz',
    {
      schema: {
        response: {
          200: {
            type: 'object',
            properties: { status: { type: 'string' }, mode: { type: 'string' } },
          },
        },
      },
      logLevel: 'warn',
    },
    async () => ({ status: 'ok', mode }),
  );
};
