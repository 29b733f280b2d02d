import type { FastifyPluginAsync } from 'fastify';
import type { Ingest } from '../ingest.js';
import { sentBodyBytes } from '../plugins/bodyParsing.js';
import type { BatchBody } from '../segment.js';
import { errorResponse, ingestResponse } from './schemas.js';

// Only the envelope is checked here: each event gets its own verdict in ingest (a batch is accepted in
// part), so `batch` items are deliberately unconstrained. `dropped` carries no type either: it is a report
// about other events, so a value the gateway cannot count is ignored in ingest instead of costing this
// batch's events a 400.
const batchBody = {
  type: 'object',
  required: ['batch'],
  properties: {
    writeKey: { type: 'string' },
    sentAt: { type: 'string' },
    context: {
      type: ['object', 'null'],
      description: 'Context for every event of the batch; each event’s own context is merged over it.',
    },
    integrations: {
      type: ['object', 'null'],
      description: 'Integrations for every event of the batch; each event’s own are merged over them.',
    },
    dropped: {
      description:
        'Events the client deleted unsent because its local queue was over its limits (not part of Segment’s ' +
        'API). Counted when a non-negative integer, otherwise ignored; never a reason to refuse the batch.',
    },
    batch: { type: 'array', minItems: 1 },
  },
} as const;

/**
 * `POST /v1/batch`: the Segment batch call, which the Tidemark SDK uses for everything; and `POST /v1/b`, the same
 * call under the path analytics.js batches to (its `deliveryStrategy: batching`).
 */
export const batchRoute: FastifyPluginAsync<{ ingest: Ingest }> = async (app, { ingest }) => {
  for (const url of ['/v1/batch', '/v1/b']) {
    app.post<{ Body: BatchBody }>(
      url,
      {
        config: { segment: true },
        schema: {
          body: batchBody,
          response: { 200: ingestResponse, '4xx': errorResponse, '5xx': errorResponse },
        },
      },
      async (request) => {
        const { writeKey, sentAt, context, integrations, dropped, batch } = request.body;
        return ingest(request, {
          writeKey,
          sentAt,
          context,
          integrations,
          dropped,
          events: batch,
          bodyBytes: sentBodyBytes(request),
        });
      },
    );
  }
};
