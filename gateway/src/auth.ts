import { createHash, timingSafeEqual } from 'node:crypto';
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

/**
 * Whether the request carries the admin token as `Authorization: Bearer <token>`. Both sides are hashed first so
 * the comparison is constant-time and of equal length: neither the characters nor the length of the token leak
 * through timing.
 */
export function hasAdminToken(request: { headers: { authorization?: string } }, token: string): boolean {
  const given = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
  if (given === undefined) return false;
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(token));
}
