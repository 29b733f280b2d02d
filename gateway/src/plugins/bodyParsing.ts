import { isUtf8 } from 'node:buffer';
import { createGunzip } from 'node:zlib';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { GatewayError } from '../errors.js';

/**
 * How request bodies become JSON.
 *
 * Browsers send `text/plain`: it is a CORS "simple" content type, so no preflight is needed, and some
 * browsers refuse or silently drop a beacon typed `application/json` (DESIGN §2). So text/plain is
 * parsed as JSON with the same parser, prototype-poisoning guard and body limit as application/json.
 *
 * Server libraries may gzip their batches (DESIGN §2). The body limit then applies to the decoded size,
 * so a small compressed body cannot expand past it (Fastify counts the decoded bytes it reads).
 *
 * Registered on the root instance, not in an encapsulated plugin, because parsers must cover every route.
 */
export function registerBodyParsing(app: FastifyInstance): void {
  // 'error', as the app's options say: a `__proto__` or `constructor.prototype` key refuses the body (400) under
  // either content type. This parser used to be built with 'remove', so the text/plain bodies browsers send had
  // such keys dropped in silence while application/json refused them (found by chaos/scenarios/hostile.ts).
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser(
    ['application/json', 'text/plain'],
    { parseAs: 'buffer' },
    (request, body, done) => {
      // JSON between systems is UTF-8 (RFC 8259 §8.1). Decoding invalid bytes would turn them into U+FFFD and
      // store text the sender never wrote, so such a body is refused whole, like any other body that is not JSON.
      if (!isUtf8(body as Buffer)) {
        done(new GatewayError('invalid_body', { message: 'The body is not valid UTF-8.' }), undefined);
        return;
      }
      json(request, (body as Buffer).toString('utf8'), done);
    },
  );

  app.addHook('preParsing', async (request, _reply, payload) => {
    const encoding = encodingOf(request);
    if (encoding === undefined) return payload;
    if (encoding !== 'gzip') {
      throw new GatewayError('unsupported_media_type', {
        message: `Content-Encoding "${encoding}" is not supported; send gzip or no encoding.`,
      });
    }
    const gunzip = Object.assign(createGunzip(), { receivedEncodedLength: 0 });
    // Fastify compares this with Content-Length, which counts the compressed bytes.
    payload.on('data', (chunk: Buffer) => {
      gunzip.receivedEncodedLength += chunk.length;
    });
    payload.on('error', (error) => gunzip.destroy(error));
    // Fastify listens for errors only while it reads the body: a request answered before that (a 415, a 413
    // by Content-Length) leaves a gunzip that may still fail on its garbage. Without a listener of its own
    // that failure is an uncaught 'error' event, which ends the process (found by the fuzz test).
    gunzip.on('error', () => {});
    return payload.pipe(gunzip);
  });
}

/**
 * The size of the body a request sent, as its JSON text arrived, when known without reading it: the
 * Content-Length of a body that is not encoded (Fastify refuses a body whose length differs from it).
 * Undefined for a gzip body, whose decoded size only the parser sees, and for a chunked one.
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
