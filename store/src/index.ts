// @tidemark/store: ClickHouse for every Tidemark process — the client for a server and for chDB, the schema and
// its migrations, the row shape, the insert with its quarantine, and the environment every process reads.
export type { ChdbAccess } from './chdb-access.js';
export { chdbAccessArgs } from './chdb-access.js';
export type { ClickHouse, ClickHouseConfig, ReadOptions, ReadResult } from './clickhouse.js';
export { createClickHouse } from './clickhouse.js';
export { clickHouseCode } from './clickhouse-error.js';
export type { ClickHouseEnv } from './config.js';
export { loadClickHouseConfig } from './config.js';
export type { StoreErrorCode } from './errors.js';
export { StoreError } from './errors.js';
export type { QuarantinedRow, RejectedRow } from './insert-events.js';
export {
  eventsTable,
  insertEvents,
  lineageOf,
  quarantineRows,
  quarantineTable,
} from './insert-events.js';
export type { MigrateOptions } from './migrate.js';
export { migrate } from './migrate.js';
export type { RenderedMigration, RenderOptions } from './migration-render.js';
export { migrationsDir, renderMigrations } from './migration-render.js';
export type { EventRow } from './row.js';
export type { LineageRange, StoredInRange, UniqueInsert } from './unique-events.js';
export {
  eventIdOf,
  eventIdsTable,
  insertUniqueEvents,
  knownIds,
  recordIds,
  storedInRange,
} from './unique-events.js';
export type { Writer } from './writer.js';
export { createWriter } from './writer.js';
