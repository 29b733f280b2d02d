import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { GatewayError } from '../errors.js';
import type { GatewayMetrics } from '../metrics.js';
import { indexProjects, type Project } from '../projects.js';
import { errorResponse } from './schemas.js';

/**
 * What Segment's browser library, analytics.js (`@segment/analytics-next`), needs besides the event paths
 * (routes/single.ts, routes/batch.ts), so that a site switches to Tidemark by pointing it here:
 *
 * - `GET /v1/projects/:writeKey/settings`, shaped like the project settings Segment's CDN serves. analytics.js
 *   loads them from `${cdnURL}/v1/projects/<writeKey>/settings` before it sends anything; they name this
 *   gateway (as the request reached it, path prefix included) as the API host of its one destination,
 *   `Segment.io`, and as the host of its own metrics. No other destination runs in the browser.
 * - `POST /v1/m`, where analytics.js reports counters about itself (`{"series":[…]}`): read and counted
 *   (`tidemark_gateway_client_metrics_total`), not stored, so that they neither fail in the browser's console
 *   nor go to Segment.
 */
export const analyticsJsRoutes: FastifyPluginAsync<{
  projects: Project[];
  pathPrefix: string;
  metrics: GatewayMetrics;
}> = async (app, { projects, pathPrefix, metrics }) => {
  const byKey = indexProjects(projects);

  app.get<{ Params: { writeKey: string } }>(
    '/v1/projects/:writeKey/settings',
    {
      schema: {
        description:
          'Project settings in the shape analytics.js loads from Segment’s CDN: load it with ' +
          '`cdnURL` set to this gateway, and it sends its events here.',
        params: { type: 'object', properties: { writeKey: { type: 'string' } }, required: ['writeKey'] },
        response: { '4xx': errorResponse },
      },
    },
    async (request, reply) => {
      const { writeKey } = request.params;
      if (!byKey.has(writeKey)) throw new GatewayError('invalid_write_key');
      const apiHost = `${request.host}${pathPrefix}/v1`;
      const protocol = request.protocol;
      // A minute: a changed host or key reaches browsers soon, and a page load does not ask every time.
      reply.header('cache-control', 'public, max-age=60');
      return {
        integrations: {
          'Segment.io': {
            apiKey: writeKey,
            apiHost,
            protocol,
            unbundledIntegrations: [],
            addBundledMetadata: true,
            maybeBundledConfigIds: {},
          },
        },
        plan: {
          track: { __default: { enabled: true, integrations: {} } },
          identify: { __default: { enabled: true } },
          group: { __default: { enabled: true } },
        },
        edgeFunction: {},
        analyticsNextEnabled: true,
        middlewareSettings: {},
        enabledMiddleware: {},
        metrics: { sampleRate: 0.1, host: apiHost, flushTimer: 30_000, maxQueueSize: 20 },
        legacyVideoPluginsEnabled: false,
        remotePlugins: [],
      };
    },
  );

  app.post<{ Body: unknown }>(
    '/v1/m',
    { schema: { description: 'analytics.js’ reports about itself: counted, not stored.', hide: true } },
    async (request: FastifyRequest<{ Body: unknown }>) => {
      const body = request.body as { series?: unknown } | null;
      const series = Array.isArray(body?.series) ? body.series.length : 0;
      if (series > 0) metrics.clientMetrics.inc(series);
      return { received: series };
    },
  );
};
