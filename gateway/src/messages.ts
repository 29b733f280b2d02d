import type { EventRow } from '@tidemark/store';
import { visitorKey } from './enrich/normalize.js';
import type { TransportMessage } from './transport/types.js';

/**
 * Groups a request's rows into one message per visitor key, in arrival order, each value already in
 * ClickHouse's JSONEachRow format so no later stage parses an event again (DESIGN §4).
 *
 * Lone surrogates (see `rowLine`) are looked for once per message rather than once per row: `includes` makes a
 * flat copy of the text it searches, and a row's JSON.stringify comes out in pieces, so searching every line
 * copied every row once more than the message's own flattening (by the Kafka client's Buffer.from, or the
 * embedded writer's join), which happens anyway. A message with `\ud` anywhere is built again a row at a time.
 */
export function toMessages(rows: EventRow[]): TransportMessage[] {
  const messages = grouped(rows, (row) => JSON.stringify(row));
  return messages.some((m) => m.value.includes('\\ud')) ? grouped(rows, rowLine) : messages;
}

function grouped(rows: EventRow[], line: (row: EventRow) => string): TransportMessage[] {
  const values = new Map<string, string>();
  for (const row of rows) {
    const key = visitorKey(row);
    values.set(key, `${values.get(key) ?? ''}${line(row)}\n`);
  }
  return [...values].map(([key, value]) => ({ key, value }));
}

/**
 * One row as JSON text ClickHouse can read. JSON.stringify writes a lone UTF-16 surrogate (what a browser's
 * JSON.stringify sends for text cut in the middle of an emoji) as a `\ud800`-style escape, and ClickHouse refuses
 * the whole insert on it (code 25, CANNOT_PARSE_ESCAPE_SEQUENCE; found by chaos/scenarios/hostile.ts, where such an
 * event stalled the sink). Those strings are made well-formed (U+FFFD for the lone half) instead. Only a line
 * that contains `\ud` at all takes the slower path.
 */
export function rowLine(row: EventRow): string {
  const line = JSON.stringify(row);
  return line.includes('\\ud') ? JSON.stringify(row, wellFormed) : line;
}

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

// String.prototype.toWellFormed does the same from Node 20 on, but is not in the ES2022 library this builds with.
function wellFormed(_key: string, value: unknown): unknown {
  return typeof value === 'string' ? value.replace(loneSurrogate, '\ufffd') : value;
}
