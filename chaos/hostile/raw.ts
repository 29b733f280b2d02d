import net from 'node:net';
import type { Answer, Target } from './cases.js';
import type { Random } from './random.js';

/**
 * Requests no HTTP client would send, written byte by byte on a socket of their own: headers over the limit,
 * bytes that are not HTTP, bodies shorter or longer than their Content-Length, header values that are not
 * UTF-8, and slow clients that dribble their headers or body (slowloris).
 */
export interface RawCase {
  kind: string;
  bytes: Buffer;
  /** A slow client: after `bytes`, one more byte of this every `everyMs`, until the server closes. */
  dribble?: { byte: string; everyMs: number };
  /** Close the writing side after `bytes` (the server sees the end of a body shorter than announced). */
  halfClose?: boolean;
  /** Every answer on the connection must be one of these. */
  expect: Answer[];
  /** Whether a connection the server closes without any answer is right (the client is gone already). */
  silentCloseIsRight?: boolean;
}

/** What came back on one connection: each answer's status and parsed JSON body, and how long it stayed open. */
export interface RawOutcome {
  answers: { status: number; json: unknown; headers: string }[];
  ms: number;
  /** Bytes after the last complete answer that did not parse as one. */
  garbage: string;
}

const head = (lines: string[]) => `${lines.join('\r\n')}\r\n\r\n`;
/** The head of a plain-text `POST /v1/batch` whose body is framed by `framing` (a Content-Length or chunked). */
const postHead = (framing: string) =>
  head(['POST /v1/batch HTTP/1.1', 'Host: x', 'Content-Type: text/plain', framing]);

export function rawCase(random: Random, target: Target): RawCase {
  const batch = JSON.stringify({ writeKey: target.writeKey, batch: [{ type: 'page', anonymousId: 'raw' }] });
  const kind = random.pick(['oversized-headers', 'bad-http', 'cl-mismatch', 'raw-header-bytes'] as const);
  switch (kind) {
    case 'oversized-headers': {
      const variant = random.int(0, 2);
      const lines =
        variant === 0
          ? [`X-Big: ${'a'.repeat(random.int(17, 80) * 1024)}`]
          : variant === 1
            ? Array.from({ length: random.int(900, 3000) }, (_, i) => `X-H${i}: ${'b'.repeat(16)}`)
            : [];
      const path = variant === 2 ? `/v1/batch?${'q'.repeat(random.int(17, 40) * 1024)}` : '/v1/batch';
      return {
        kind,
        bytes: Buffer.from(
          head([`POST ${path} HTTP/1.1`, 'Host: x', ...lines, `Content-Length: ${batch.length}`]) + batch,
        ),
        expect: [{ status: 431, code: 'headers_too_large' }],
      };
    }
    case 'bad-http': {
      const bytes = random.pick([
        'GARBAGE\r\n\r\n',
        '\u0000\u0001\u0002\r\n\r\n',
        'POST /v1/batch HTTP/9.9\r\nHost: x\r\n\r\n',
        'POST /v1/batch HTTP/1.1\r\nHost : x\r\n\r\n',
        'POST /v1/batch HTTP/1.1\r\nX(y): z\r\n\r\n',
        'POST /v1/batch HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n',
        'POST /v1/batch HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
        'POST /v1/batch HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd',
        'POST /v1/batch HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n',
        'POST /v1/batch HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n',
        'POST /v1/batch HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nabc\r\n0\r\n\r\n',
        'POST /v1/batch HTTP/1.1\r\nHost: x\r\nX: a\u0000b\r\n\r\n',
      ]);
      return {
        kind,
        bytes: Buffer.from(bytes, 'latin1'),
        expect: [{ status: 400, code: 'invalid_request' }],
      };
    }
    case 'cl-mismatch': {
      if (random.chance(0.5)) {
        // Shorter than the body: the request ends early, the rest of the bytes are a second "request".
        const cut = random.int(1, batch.length - 1);
        return {
          kind,
          bytes: Buffer.from(postHead(`Content-Length: ${cut}`) + batch),
          expect: [
            { status: 400, code: 'invalid_body' },
            { status: 400, code: 'invalid_request' },
          ],
        };
      }
      // Longer than the body, then the client closes its side: the body can never complete.
      const sent = random.int(1, batch.length - 1);
      return {
        kind,
        bytes: Buffer.from(postHead(`Content-Length: ${batch.length}`) + batch.slice(0, sent)),
        halfClose: true,
        expect: [
          { status: 400, code: 'invalid_request' },
          { status: 400, code: 'invalid_body' },
        ],
        silentCloseIsRight: true,
      };
    }
    case 'raw-header-bytes': {
      const events = JSON.stringify({ batch: [{ type: 'page', anonymousId: 'raw' }] });
      if (random.chance(0.5)) {
        // A Basic header whose bytes are not UTF-8 (Node reads header values as latin1) and no key in the body.
        const bytes = Buffer.concat([
          Buffer.from(
            'POST /v1/batch HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: text/plain\r\nAuthorization: Basic ',
          ),
          Buffer.from([0xff, 0xfe, 0xc3, 0x28]),
          Buffer.from(`\r\nContent-Length: ${events.length}\r\n\r\n${events}`),
        ]);
        return { kind, bytes, expect: [{ status: 401, code: 'invalid_write_key' }] };
      }
      // The allowed origin spelled with a non-ASCII look-alike, as raw UTF-8 bytes.
      const host = new URL(target.allowedOrigin).host.replace('o', 'ö');
      const bytes = Buffer.concat([
        Buffer.from(
          'POST /v1/batch HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: text/plain\r\nOrigin: https://',
        ),
        Buffer.from(host, 'utf8'),
        Buffer.from(`\r\nContent-Length: ${batch.length}\r\n\r\n${batch}`),
      ]);
      return { kind, bytes, expect: [{ status: 403, code: 'origin_not_allowed' }] };
    }
  }
}

/** A slow client: headers or a body that never finish, a byte at a time. The gateway must cut it off with a 408. */
export function slowCase(random: Random, target: Target, part: 'headers' | 'body'): RawCase {
  const everyMs = random.int(200, 1000);
  if (part === 'headers') {
    return {
      kind: 'slow-headers',
      bytes: Buffer.from('POST /v1/batch HTTP/1.1\r\nHost: x\r\nX-Slow: '),
      dribble: { byte: 'a', everyMs },
      expect: [{ status: 408, code: 'request_timeout' }],
    };
  }
  const chunked = random.chance(0.5);
  // Under the 500 KB body limit, which would refuse it at once.
  const framing = chunked ? 'Transfer-Encoding: chunked' : 'Content-Length: 400000';
  return {
    kind: 'slow-body',
    bytes: Buffer.from(
      postHead(framing) +
        (chunked ? 'fffff\r\n' : '') +
        `{"writeKey":${JSON.stringify(target.writeKey)},"batch":[`,
    ),
    dribble: { byte: ' ', everyMs },
    expect: [{ status: 408, code: 'request_timeout' }],
  };
}

/** Sends a raw case and reads every answer until the server closes the connection (or `timeoutMs` passes). */
export function sendRaw(port: number, c: RawCase, timeoutMs: number): Promise<RawOutcome> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    const deadline = setTimeout(() => socket.destroy(), timeoutMs);
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(deadline);
      clearInterval(timer);
      resolve({ ...parseAnswers(Buffer.concat(chunks)), ms: performance.now() - started });
    });
    socket.write(c.bytes);
    if (c.halfClose) socket.end();
    const dribble = c.dribble;
    if (dribble) {
      timer = setInterval(() => {
        if (socket.writable) socket.write(dribble.byte);
      }, dribble.everyMs);
    }
  });
}

/** Splits what a server sent on one connection into answers (each with a Content-Length body). */
export function parseAnswers(data: Buffer): Omit<RawOutcome, 'ms'> {
  const answers: RawOutcome['answers'] = [];
  let at = 0;
  const text = data.toString('latin1');
  while (at < text.length) {
    const end = text.indexOf('\r\n\r\n', at);
    if (end < 0) break;
    const headers = text.slice(at, end);
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(headers)?.[1]);
    const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(headers)?.[1] ?? 0);
    if (!Number.isInteger(status) || end + 4 + length > text.length) break;
    const body = data.subarray(end + 4, end + 4 + length).toString('utf8');
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      json = body;
    }
    answers.push({ status, json, headers });
    at = end + 4 + length;
  }
  return { answers, garbage: text.slice(at) };
}
