import type { FastifyPluginAsync } from 'fastify';
import type { Ingest } from '../ingest.js';
import { EVENT_TYPES, type EventType } from '../segment.js';
import { errorResponse, ingestResponse } from './schemas.js';

const eventBody = {
  type: 'object',
  properties: { writeKey: { type: 'string' }, sentAt: { type: 'string' } },
} as const;

/**
 * `POST /v1/track`, `/v1/page`, … with one event each (DESIGN §2), for Segment-compatible senders that do
 * not batch, and the same under the one-letter paths analytics.js posts to (`/v1/t`, `/v1/p`, `/v1/i`, `/v1/g`,
 * `/v1/a`, `/v1/s`). The path names the type, as in Segment's API; the event goes through the same ingest.
 */
export const singleRoutes: FastifyPluginAsync<{ ingest: Ingest }> = async (app, { ingest }) => {
  const paths = EVENT_TYPES.flatMap((type) => [
    [type, `/v1/${type}`],
    [type, `/v1/${type.charAt(0)}`],
  ]);
  for (const [type, url] of paths as [EventType, string][]) {
    app.post<{ Body: Record<string, unknown> }>(
      url,
      {
        config: { segment: true },
        schema: {
          body: eventBody,
          response: { 200: ingestResponse, '4xx': errorResponse, '5xx': errorResponse },
        },
      },
      async (request) => {
        // No bodyBytes: the event is the body with its type set from the path, which can make it larger.
        const { writeKey, ...event } = request.body;
        return ingest(request, { writeKey, sentAt: undefined, events: [{ ...event, type }] });
      },
    );
  }
};
