import { isUtf8 } from 'node:buffer';
import { createGunzip, createInflate } from 'node:zlib';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { protectBigIntegers } from '../bigIntegers.js';
import { GatewayError } from '../errors.js';

/**
 * How request bodies become JSON.
 *
 * Browsers send `text/plain`: it is a CORS "simple" content type, so no preflight is needed, and some
 * browsers refuse or silently drop a beacon typed `application/json` (DESIGN §2). So text/plain is
 * parsed as JSON with the same parser, prototype-poisoning guard and body limit as application/json, and so is
 * `application/x-www-form-urlencoded`, under which RudderStack's Node SDK sends its JSON batches. On the
 * ingestion routes (route config `segment: true`) a body without a Content-Type is JSON too, as some HTTP
 * clients send it; any other content type is refused with 415 `unsupported_media_type`.
 *
 * Server libraries may gzip (Segment's, RudderStack's) or deflate their batches (DESIGN §2). The body limit then
 * applies to the decoded size, so a small compressed body cannot expand past it (Fastify counts the decoded bytes
 * it reads).
 *
 * Registered on the root instance, not in an encapsulated plugin, because parsers must cover every route.
 */
export function registerBodyParsing(app: FastifyInstance): void {
  // 'error', as the app's options say: a `__proto__` or `constructor.prototype` key refuses the body (400) under
  // either content type. This parser used to be built with 'remove', so the text/plain bodies browsers send had
  // such keys dropped in silence while application/json refused them (found by chaos/scenarios/hostile.ts).
  const json = app.getDefaultJsonParser('error', 'error');
  const parse = (
    request: FastifyRequest,
    body: Buffer,
    done: (err: Error | null, body?: unknown) => void,
  ) => {
    // JSON between systems is UTF-8 (RFC 8259 §8.1). Decoding invalid bytes would turn them into U+FFFD and
    // store text the sender never wrote, so such a body is refused whole, like any other body that is not JSON.
    if (!isUtf8(body)) {
      done(new GatewayError('invalid_body', { message: 'The body is not valid UTF-8.' }), undefined);
      return;
    }
    const text = body.toString('utf8');
    json(request, isIngestion(request) ? protectBigIntegers(text, request) : text, done);
  };
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser(
    ['application/json', 'text/plain', 'application/x-www-form-urlencoded'],
    { parseAs: 'buffer' },
    (request, body, done) => parse(request, body as Buffer, done),
  );
  // Fastify hands a body without a Content-Type, or with one no parser names, to this one.
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => {
    const type = request.headers['content-type']?.trim();
    if ((type === undefined || type === '') && isIngestion(request)) {
      parse(request, body as Buffer, done);
      return;
    }
    done(
      new GatewayError('unsupported_media_type', {
        message:
          type === undefined || type === ''
            ? 'Send the body with a Content-Type: application/json or text/plain.'
            : `Content-Type "${type.slice(0, 100)}" is not supported; send JSON as application/json, text/plain ` +
              'or application/x-www-form-urlencoded.',
      }),
      undefined,
    );
  });

  app.addHook('preParsing', async (request, _reply, payload) => {
    const encoding = encodingOf(request);
    if (encoding === undefined) return payload;
    if (encoding !== 'gzip' && encoding !== 'x-gzip' && encoding !== 'deflate') {
      throw new GatewayError('unsupported_media_type', {
        message: `Content-Encoding "${encoding.slice(0, 100)}" is not supported; send gzip, deflate or no encoding.`,
      });
    }
    // HTTP's deflate is the zlib format (RFC 9110 §8.4.1.2), which createInflate reads.
    const decoder = encoding === 'deflate' ? createInflate() : createGunzip();
    const inflating = Object.assign(decoder, { receivedEncodedLength: 0 });
    // Fastify compares this with Content-Length, which counts the compressed bytes.
    payload.on('data', (chunk: Buffer) => {
      inflating.receivedEncodedLength += chunk.length;
    });
    payload.on('error', (error) => inflating.destroy(error));
    // Fastify listens for errors only while it reads the body: a request answered before that (a 415, a 413
    // by Content-Length) leaves a decoder that may still fail on its garbage. Without a listener of its own
    // that failure is an uncaught 'error' event, which ends the process (found by the fuzz test).
    inflating.on('error', () => {});
    return payload.pipe(inflating);
  });
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route takes Segment events: bodies without a Content-Type are JSON, large integers are kept. */
    segment?: boolean;
  }
}

/** Whether the request's route takes Segment events (its config says `segment: true`). */
function isIngestion(request: FastifyRequest): boolean {
  return request.routeOptions.config?.segment === true;
}

/**
 * The size of the body a request sent, as its JSON text arrived, when known without reading it: the
 * Content-Length of a body that is not encoded (Fastify refuses a body whose length differs from it).
 * Undefined for a compressed body, whose decoded size only the parser sees, and for a chunked one.
 */
export function sentBodyBytes(request: FastifyRequest): number | undefined {
  if (encodingOf(request) !== undefined) return undefined;
  const length = Number(request.headers['content-length']);
  return Number.isSafeInteger(length) ? length : undefined;
}

/** The request's Content-Encoding, lowercased; undefined when the body is not encoded. */
function encodingOf(request: FastifyRequest): string | undefined {
  const encoding = request.headers['content-encoding']?.trim().toLowerCase();
  return encoding === undefined || encoding === '' || encoding === 'identity' ? undefined : encoding;
}
