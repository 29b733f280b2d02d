import type { FastifyPluginAsync } from 'fastify';
import type { Mode } from '../config.js';
import { GatewayError } from '../errors.js';
import type { GatewayMetrics } from '../metrics.js';
import type { Transport } from '../transport/types.js';

/** Route config that exempts a route from load shedding (under-pressure lets it through). */
export const unshed = { pressureHandler: () => undefined };

const readyTimeoutMs = 2_000;
// Probes come every few seconds from every load balancer: one answer serves them for a second.
const readyCacheMs = 1_000;

/**
 * `GET /healthz`: the process is up and serving. It does not probe Kafka or ClickHouse: a load balancer that
 * drained every gateway during a Kafka blip would turn a retriable outage into a total one.
 * `GET /readyz`: the store behind the transport answers (Kafka metadata, or `SELECT 1`) — for orchestrators
 * that should hold traffic back from a gateway that cannot deliver yet.
 * `GET /metrics`: Prometheus text.
 * None of them is shed or rate-limited. app.ts registers them at `warn` (probes come every few seconds).
 */
export const healthRoute: FastifyPluginAsync<{
  mode: Mode;
  transport: Transport;
  metrics: GatewayMetrics;
}> = async (app, { mode, transport, metrics }) => {
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
      config: unshed,
    },
    async () => ({ status: 'ok', mode }),
  );

  let last: { at: number; ok: boolean; error?: string } | undefined;
  app.get('/readyz', { config: unshed }, async (request) => {
    if (!last || Date.now() - last.at > readyCacheMs) {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          transport.ready(),
          new Promise((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`no answer within ${readyTimeoutMs} ms`)),
              readyTimeoutMs,
            );
          }),
        ]);
        last = { at: Date.now(), ok: true };
      } catch (error) {
        last = { at: Date.now(), ok: false, error: (error as Error).message };
        request.log.warn({ err: error }, 'not ready');
      } finally {
        clearTimeout(timer);
      }
    }
    if (!last.ok) throw new GatewayError('not_ready');
    return { status: 'ready', mode };
  });

  app.get('/metrics', { config: unshed }, async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return (metrics.exposition ?? (() => metrics.registry.metrics()))();
  });
};
