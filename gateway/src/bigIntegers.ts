import { randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';

/**
 * Integers beyond 2^53 kept to the digit (issue 19). JSON.parse reads every number as a double, so
 * `1234567890123456789` in an event's properties would be stored as `1234567890123456800`. Before the body of an
 * ingestion route is parsed, each such integer literal is rewritten as a string that carries its digits behind a
 * marker; once the row is built, `restoreBigIntegers` puts the bare digits back where the marker stands, so the
 * stored JSON holds the number exactly as sent, and a text column (a numeric `userId`) holds its digits.
 *
 * The marker starts with a NUL and holds a random tag made when the process starts, so no string a client sends
 * can pass for one. Only bodies that have a run of 16 digits after a JSON separator are scanned at all: the
 * bodies of browsers and most servers never do, and pay for one regular expression test.
 *
 * Numbers with a fraction or an exponent stay doubles, as JSON.parse reads them (17 significant digits).
 */
const TAG = randomBytes(6).toString('hex');
/** The marker as the parsed string begins, and as JSON.stringify writes it. */
const MARK = `\u0000bigint:${TAG}:`;
const MARK_JSON = `\\u0000bigint:${TAG}:`;
const MAYBE = /[:[,]\s*-?\d{16}/;
const IN_JSON = new RegExp(`"\\\\u0000bigint:${TAG}:(-?\\d+)"`, 'g');
const IN_TEXT = new RegExp(`\u0000bigint:${TAG}:(-?\\d+)`, 'g');
const MAX_SAFE = String(Number.MAX_SAFE_INTEGER);

const marked = new WeakSet<FastifyRequest>();

/** `text` with every integer literal beyond 2^53 turned into a marked string; notes the request when it did. */
export function protectBigIntegers(text: string, request: FastifyRequest): string {
  if (!MAYBE.test(text)) return text;
  let out = '';
  let from = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // A string: skip to its closing quote, past escapes.
      i += 1;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i += 2;
        else if (d === 0x22) break;
        else i += 1;
      }
      i += 1;
      continue;
    }
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      const start = i;
      if (c === 0x2d) i += 1;
      const digitsFrom = i;
      while (i < n && text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x39) i += 1;
      const next = i < n ? text.charCodeAt(i) : 0;
      // A fraction or an exponent: a double, left alone (its digits are skipped below).
      if (next === 0x2e || next === 0x65 || next === 0x45) {
        while (i < n && /[0-9.eE+-]/.test(text[i] as string)) i += 1;
        continue;
      }
      const digits = text.slice(digitsFrom, i);
      if (unsafe(digits)) {
        out += `${text.slice(from, start)}"${MARK_JSON}${text.slice(start, i)}"`;
        from = i;
      }
      continue;
    }
    i += 1;
  }
  if (from === 0) return text;
  marked.add(request);
  return out + text.slice(from);
}

/** Whether an integer's digits (no sign, no leading zero in valid JSON) are beyond Number.MAX_SAFE_INTEGER. */
function unsafe(digits: string): boolean {
  if (digits.length !== MAX_SAFE.length) return digits.length > MAX_SAFE.length;
  return digits > MAX_SAFE;
}

/** Whether the request's body had integers beyond 2^53, now marked strings in its parsed body. */
export function hasBigIntegers(request: FastifyRequest): boolean {
  return marked.has(request);
}

/** Whether a parsed string is a marked integer (for fields that must be strings, such as `messageId`). */
export function isBigIntegerMark(value: string): boolean {
  return value.charCodeAt(0) === 0 && value.startsWith(MARK);
}

/**
 * `text` with each marked integer back as its digits: a bare number inside JSON text (`"…:123…"` → `123…`), the
 * digits alone in plain text.
 */
export function restoreBigIntegers(text: string): string {
  if (text.includes(MARK_JSON)) return text.replace(IN_JSON, '$1');
  if (text.includes(MARK)) return text.replace(IN_TEXT, '$1');
  return text;
}
