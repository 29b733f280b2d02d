import type { ClickHouse } from './clickhouse.js';
import { StoreError } from './errors.js';

const ttlPattern = /\bTTL toDateTime\(timestamp\) \+ toIntervalDay\((\d+)\)/;

/**
 * The statement that makes `tidemark.events` keep `ttlDays` days of events (by event time), or keep them
 * forever when `ttlDays` is undefined; `undefined` when the table is already so. `engineFull` is the table's
 * `system.tables.engine_full`, where ClickHouse shows the current TTL.
 *
 * Only the raw events expire: the rollups are small and are the long-term record, so they keep every day.
 */
export function ttlStatement(
  engineFull: string,
  ttlDays: number | undefined,
  cluster?: string,
): string | undefined {
  if (ttlDays !== undefined && (!Number.isInteger(ttlDays) || ttlDays < 1)) {
    throw new StoreError('config_invalid', `TTL days must be a positive integer, got ${ttlDays}`);
  }
  const table = cluster ? `tidemark.events_local ON CLUSTER ${cluster}` : 'tidemark.events';
  const current = ttlPattern.exec(engineFull)?.[1];
  const hasTtl = /\bTTL\b/.test(engineFull);
  if (ttlDays === undefined) return hasTtl ? `ALTER TABLE ${table} REMOVE TTL` : undefined;
  if (current !== undefined && Number(current) === ttlDays) return undefined;
  // Issued only when the TTL changes: MODIFY TTL materializes the TTL on every part (a rewrite), which is
  // right once per change and wasteful at every start.
  return `ALTER TABLE ${table} MODIFY TTL toDateTime(timestamp) + INTERVAL ${ttlDays} DAY`;
}

/** Brings the events table's TTL to `ttlDays` (undefined: keep forever); returns the statement it ran. */
export async function applyEventsTtl(
  ch: ClickHouse,
  ttlDays: number | undefined,
  cluster?: string,
): Promise<string | undefined> {
  const [row] = await ch.query<{ engine_full: string }>(
    'SELECT engine_full FROM system.tables WHERE database = {db:String} AND name = {name:String}',
    { db: 'tidemark', name: cluster ? 'events_local' : 'events' },
  );
  const statement = ttlStatement(row?.engine_full ?? '', ttlDays, cluster);
  if (statement) await ch.command(statement);
  return statement;
}
