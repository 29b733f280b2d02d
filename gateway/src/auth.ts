import type { FastifyRequest } from 'fastify';

/**
 * The write key of a request: the body's `writeKey`, else the HTTP Basic user (`writeKey:` with an empty
 * password), which is how Segment's server libraries send it (DESIGN §2). Undefined when there is none.
 */
export function writeKeyOf(request: FastifyRequest, bodyKey: unknown): string | undefined {
  if (typeof bodyKey === 'string' && bodyKey !== '') return bodyKey;
  const header = request.headers.authorization;
  const match = header?.match(/^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i);
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const user = decoded.split(':', 1)[0] ?? '';
  return user === '' ? undefined : user;
}
