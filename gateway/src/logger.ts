import { type DestinationStream, type Logger, pino } from 'pino';

/**
 * The gateway's pino logger, shared by Fastify and the Kafka client so both write one stream.
 *
 * The request serializer keeps method and URL only: no IP address (DESIGN §3: never stored whole) and no
 * headers, so a write key sent as Basic auth, or the admin token, never lands in a log. `destination` (stdout by
 * default) lets a test read what would be logged.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    serializers: {
      req: (request: { method: string; url: string }) => ({ method: request.method, url: request.url }),
      res: (reply: { statusCode: number }) => ({ statusCode: reply.statusCode }),
      err: pino.stdSerializers.err,
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
