import type { FastifyPluginAsync } from 'fastify';
import type { Ingest } from '../ingest.js';
import { EVENT_TYPES } from '../segment.js';
import { errorResponse, ingestResponse } from './schemas.js';

const eventBody = {
  type: 'object',
  properties: { writeKey: { type: 'string' }, sentAt: { type: 'string' } },
} as const;

/**
 * `POST /v1/track`, `/v1/page`, … with one event each (DESIGN §2), for Segment-compatible senders that do
 * not batch. The path names the type, as in Segment's API; the event goes through the same ingest.
 */
export const singleRoutes: FastifyPluginAsync<{ ingest: Ingest }> = async (app, { ingest }) => {
  for (const type of EVENT_TYPES) {
    app.post<{ Body: Record<string, unknown> }>(
      `/v1/${type}`,
      {
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
