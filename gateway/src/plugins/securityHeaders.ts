import type { FastifyInstance } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';

/**
 * Helmet's security headers on every answer, its middleware built once. @fastify/helmet builds a new helmet
 * middleware for every request (it calls `helmet(options)` in its onRequest hook, so that a route may bring
 * options of its own), which parses the Content-Security-Policy directives and names every header again each
 * time; no route here has options of its own, so one middleware serves them all and sets the same headers.
 *
 * Registered on the root instance, like @fastify/helmet (a fastify-plugin), so every route and the not-found
 * answer carry them.
 */
export function registerSecurityHeaders(app: FastifyInstance, options: HelmetOptions): void {
  const setHeaders = helmet(options);
  app.addHook('onRequest', (request, reply, done) => {
    setHeaders(request.raw, reply.raw, (error?: unknown) => done(error as Error | undefined));
  });
}
