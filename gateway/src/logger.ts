import { type Logger, pino } from 'pino';

/**
 * The gateway's pino logger, shared by Fastify and the Kafka client so both write one stream.
 *
 * The request serializer keeps method and URL only: no IP address (DESIGN §3: never stored whole) and no
 * headers, so a write key sent as Basic auth never lands in a log.
 */
export function createLogger(level: string): Logger {
  return pino({
    level,
    serializers: {
      req: (request: { method: string; url: string }) => ({ method: request.method, url: request.url }),
      res: (reply: { statusCode: number }) => ({ statusCode: reply.statusCode }),
      err: pino.stdSerializers.err,
    },
  });
}
