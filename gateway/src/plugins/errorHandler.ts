import { type IncomingMessage, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type ErrorCode, GatewayError } from '../errors.js';

/**
 * Every failure leaves as one of our errors (errors.ts): stable code, status, and for retriable ones a
 * `Retry-After`. Fastify's own errors are recognized by their stable `code`, never by message text.
 */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const answer = toGatewayError(error);
    // Shedding and readiness answers are the gateway working as designed: warnings, not errors.
    if (['internal', 'transport_unavailable', 'store_unavailable'].includes(answer.code))
      request.log.error({ err: error, code: answer.code }, 'request failed');
    else if (answer.status >= 500) request.log.warn({ code: answer.code }, 'request refused');
    else request.log.info({ code: answer.code, reason: answer.message }, 'request refused');
    if (answer.retriable) reply.header('retry-after', String(answer.retryAfterSeconds));
    return reply.status(answer.status).send(answer.toJSON());
  });

  // An answer given before the request's body has all arrived (a 413 by Content-Length, a 415, a body past the
  // limit while it was read) waits until the rest is read and dropped. Node closes such a connection as soon as
  // the answer is written, and the bytes the client is still sending then meet a closed socket, whose kernel
  // answers with a reset that can discard the answer before the client reads it (a client that reads only once
  // its body is written got no 413 in 20 of 20 tries; chaos/scenarios/hostile.ts lost 3 of ~1 900). As for the
  // parser's refusals below, the wait is bounded: LINGER_MS, and only for a declared length of at most
  // DRAIN_MAX_BYTES; past either the answer goes at once, as before.
  app.addHook('onSend', (request, _reply, payload, done) => {
    const drained = discardRest(request.raw);
    if (drained === undefined) done(null, payload);
    else void drained.then(() => done(null, payload));
  });

  app.setNotFoundHandler((_request, reply) => {
    const answer = new GatewayError('not_found');
    return reply.status(answer.status).send(answer.toJSON());
  });
}

/** Maps anything thrown while handling a request to the answer the client gets. */
export function toGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  const e = error as Partial<FastifyError> & { code?: string };
  if (e.validation) return new GatewayError('invalid_body', { message: e.message ?? '', cause: error });
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new GatewayError('payload_too_large', { cause: error });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new GatewayError('unsupported_media_type', {
        message: 'Send the body as application/json or text/plain.',
        cause: error,
      });
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new GatewayError('invalid_body', { message: 'The body is not valid JSON.', cause: error });
    // zlib's codes for a body that claims gzip or deflate but is not.
    case 'Z_DATA_ERROR':
    case 'Z_BUF_ERROR':
      return new GatewayError('invalid_body', {
        message: 'The body is not valid gzip or deflate data, as its Content-Encoding says it is.',
        cause: error,
      });
  }
  // Any other client-side failure Fastify detects (bad Content-Length, aborted body, …).
  const status = e.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new GatewayError('invalid_body', { cause: error });
  }
  return new GatewayError('internal', { cause: error });
}

/** The largest declared body whose unread rest an early answer waits for (see the onSend hook above). */
const DRAIN_MAX_BYTES = 16 * 1024 * 1024;

/**
 * Reads and drops what is left of a request's body, resolving once it has all arrived, the client went away, or
 * LINGER_MS passed; undefined when nothing is left to wait for (all of it arrived, or was read: an injected
 * request has no `complete`), or the body is chunked or declared over DRAIN_MAX_BYTES. A body piped elsewhere
 * (the gunzip of a gzip body) is unpiped first.
 */
function discardRest(raw: IncomingMessage): Promise<void> | undefined {
  if (raw.complete || raw.readableEnded || raw.destroyed) return undefined;
  const declared = Number(raw.headers['content-length']);
  if (!(declared <= DRAIN_MAX_BYTES)) return undefined;
  return new Promise((resolve) => {
    const finish = () => {
      clearTimeout(timer);
      raw.off('end', finish);
      raw.off('close', finish);
      resolve();
    };
    const timer = setTimeout(finish, LINGER_MS);
    raw.on('end', finish);
    raw.on('close', finish);
    raw.unpipe();
    raw.resume();
  });
}

/** Connections answered by clientErrorHandler and being closed: later parse errors on them are not answered again. */
const closing = new WeakSet<Socket>();
/** How long a refused client has to read its answer before the connection is cut. */
const LINGER_MS = 2_000;

/**
 * Fastify's `clientErrorHandler`: what a client gets when Node's HTTP parser gives up before any route runs (a
 * request that is not HTTP, headers over 16 KiB, a slow client cut off by the timeouts). The answer has the same
 * `{ code, message }` body as every other refusal, so a client reads one error format.
 *
 * The connection is ended, not destroyed: a socket closed while the client is still sending makes the kernel
 * answer with a reset, which can discard the answer before the client reads it (measured: 6 of 20 clients still
 * writing past a 20 KB header lost the 431; Node's and Fastify's own handlers destroy at once). Ending sends the
 * answer and a FIN; what the client sends meanwhile is read and dropped, and the socket is destroyed after
 * LINGER_MS.
 *
 * Only the code is logged: Node attaches the bytes it could not parse to the error (`rawPacket`), and those hold
 * whatever headers the client sent, write keys and admin tokens included; Fastify's default handler logs the
 * whole error at trace level.
 */
export function clientErrorHandler(
  this: FastifyInstance,
  error: Error & { code?: string },
  socket: Socket,
): void {
  // A reset connection has nobody left to answer (https://nodejs.org/api/http.html#event-clienterror).
  if (error.code === 'ECONNRESET' || socket.destroyed || closing.has(socket)) return;
  closing.add(socket);
  const code: ErrorCode =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? 'request_timeout'
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? 'headers_too_large'
        : 'invalid_request';
  const answer = new GatewayError(code);
  this.log.debug({ code, parser: error.code }, 'client error');
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify(answer.toJSON());
  socket.end(
    `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status]}\r\nConnection: close\r\n` +
      `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}

/**
 * Fastify's `frameworkErrors`: the answers its router gives before any hook or error handler runs, to a URL whose
 * percent-encoding does not decode (`/dashboard/%zz`) or whose path parameter is over `maxParamLength` (100). By
 * default they come in Fastify's own format, the second with the whole path echoed back (found by
 * chaos/scenarios/hostile.ts: `GET /v1/queries/` + 300 characters answered 414 FST_ERR_MAX_PARAM_LENGTH).
 */
export function frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const answer =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? new GatewayError('uri_too_long')
      : new GatewayError('invalid_request', {
          message: 'The URL is not valid (a percent-encoding does not decode).',
        });
  reply.status(answer.status).send(answer.toJSON());
}
