import type { EventRow } from '@tidemark/sink';
import { visitorKey } from './enrich/normalize.js';
import type { TransportMessage } from './transport/types.js';

/**
 * Groups a request's rows into one message per visitor key, in arrival order, each value already in
 * ClickHouse's JSONEachRow format so no later stage parses an event again (DESIGN §4).
 */
export function toMessages(rows: EventRow[]): TransportMessage[] {
  const values = new Map<string, string>();
  for (const row of rows) {
    const key = visitorKey(row);
    values.set(key, `${values.get(key) ?? ''}${JSON.stringify(row)}\n`);
  }
  return [...values].map(([key, value]) => ({ key, value }));
}
