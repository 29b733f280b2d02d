/** JSON schemas shared by the ingestion routes (Fastify validates requests and serializes answers with them). */

/** The 200 answer of every ingestion route. */
export const ingestResponse = {
  type: 'object',
  required: ['accepted', 'rejected'],
  properties: {
    accepted: { type: 'integer', description: 'Events stored (or acknowledged by Kafka).' },
    rejected: {
      type: 'array',
      description: 'Events refused as invalid; the SDK drops exactly these and keeps nothing else.',
      items: {
        type: 'object',
        required: ['index', 'messageId', 'reason'],
        properties: {
          index: { type: 'integer' },
          messageId: { type: ['string', 'null'] },
          reason: { type: 'string' },
        },
      },
    },
  },
} as const;

/** The body of an error answer (errors.ts). */
export const errorResponse = {
  type: 'object',
  required: ['code', 'message'],
  properties: { code: { type: 'string' }, message: { type: 'string' } },
  additionalProperties: true,
} as const;
