import { Readable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import { hasAdminToken } from '../auth.js';
import { GatewayError } from '../errors.js';
import type { LiveBroadcaster, LiveEndReason } from '../live/broadcaster.js';
import { errorResponse } from './schemas.js';

export interface LiveRouteOptions {
  /** TIDEMARK_ADMIN_TOKEN; undefined: the feed answers 404 `read_api_disabled`, as the read API does. */
  adminToken: string | undefined;
  live: LiveBroadcaster;
  /** Open feeds at most; past it a new one is refused with 503 (each holds a connection and a queue). */
  maxSubscribers?: number;
  /** A comment line after this long without events, so proxies and the server's idle timeout keep the stream. */
  keepAliveMs?: number;
}

/**
 * `GET /v1/live`: the events this gateway accepts, as they are accepted, as server-sent events. Behind the admin
 * token as an `Authorization: Bearer` header only, never a URL parameter, so the token stays out of access logs
 * and browser history: the dashboard reads the stream with fetch(), which can send the header (EventSource
 * cannot).
 */
export const liveRoute: FastifyPluginAsync<LiveRouteOptions> = async (app, opts) => {
  const { adminToken, live } = opts;
  const maxSubscribers = opts.maxSubscribers ?? 100;
  const keepAliveMs = opts.keepAliveMs ?? 15_000;

  app.addHook('onRequest', async (request, reply) => {
    if (adminToken === undefined) throw new GatewayError('read_api_disabled');
    if (!hasAdminToken(request, adminToken)) {
      reply.header('www-authenticate', 'Bearer realm="tidemark-read"');
      throw new GatewayError('invalid_admin_token');
    }
  });

  app.get<{ Querystring: { project?: string } }>(
    '/v1/live',
    {
      schema: {
        summary: 'Follow accepted events as they arrive (server-sent events)',
        description:
          'A text/event-stream of `events` messages, each `{"events":[…]}` with the events this gateway accepted ' +
          'since the previous one (time, project, type, event, host, path, country, device, browser, and `person`: ' +
          'the user id, else the anonymous id). A reader that falls 1000 events behind gets an `end` message with reason `overflow` and should ' +
          'reconnect. With several gateways, each streams the events it accepted itself.',
        tags: ['read'],
        security: [{ adminToken: [] }],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            project: { type: 'string', minLength: 1, maxLength: 200, description: 'Only this project.' },
          },
        },
        response: {
          200: {
            description: 'The stream.',
            content: { 'text/event-stream': { schema: { type: 'string' } } },
          },
          '4xx': errorResponse,
          '5xx': errorResponse,
        },
      },
    },
    async (request, reply) => {
      if (live.size >= maxSubscribers) throw new GatewayError('overloaded');
      const subscription = live.subscribe({ project: request.query.project });
      // The browser went away: end now, not at the next keep-alive, so its queue is freed at once.
      reply.raw.once('close', () => subscription.close());

      async function* messages(): AsyncGenerator<string> {
        try {
          // `retry`: how long EventSource-style readers wait before reconnecting; the dashboard follows it too.
          yield 'retry: 3000\n: connected\n\n';
          for (;;) {
            const events = await subscription.next(keepAliveMs);
            if (events === null) break;
            yield events.length === 0
              ? ': keep-alive\n\n'
              : `event: events\ndata: ${JSON.stringify({ events })}\n\n`;
          }
          const reason = subscription.ended as LiveEndReason;
          if (reason !== 'unsubscribed') yield `event: end\ndata: ${JSON.stringify({ reason })}\n\n`;
        } finally {
          subscription.close();
        }
      }

      reply
        .type('text/event-stream; charset=utf-8')
        .header('cache-control', 'no-store')
        // nginx buffers proxied responses by default, which would hold events back until a buffer fills.
        .header('x-accel-buffering', 'no');
      // highWaterMark 1: the generator runs one message ahead of the socket, so a slow reader's backlog waits in
      // its subscription's bounded queue, where it is counted, not in stream buffers.
      return reply.send(Readable.from(messages(), { objectMode: false, highWaterMark: 1 }));
    },
  );
};
