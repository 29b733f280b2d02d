// @tidemark/store: ClickHouse for every Tidemark process — the client for a server and for chDB, the schema and
// its migrations, the row shape, the insert with its quarantine, and the environment every process reads.
export type { ChdbAccess } from './chdbAccess.js';
export { chdbAccessArgs } from './chdbAccess.js';
export type { ClickHouse, ClickHouseConfig, ReadOptions, ReadResult } from './clickhouse.js';
export { createClickHouse } from './clickhouse.js';
export { clickHouseCode } from './clickhouseError.js';
export type { ClickHouseEnv } from './config.js';
export { loadClickHouseConfig } from './config.js';
export type { ErasedKey, ErasedLink, Erasure } from './erasedIds.js';
export {
  erasedIdsTable,
  erasedLinks,
  isErased,
  loadErasures,
  recordErasedLinks,
  withoutErased,
} from './erasedIds.js';
export type { StoreErrorCode } from './errors.js';
export { StoreError } from './errors.js';
export type { QuarantinedRow, RejectedRow } from './insertEvents.js';
export {
  eventsTable,
  insertEvents,
  lineageOf,
  quarantineRows,
  quarantineTable,
} from './insertEvents.js';
export type { MigrateOptions } from './migrate.js';
export { migrate } from './migrate.js';
export type { RenderedMigration, RenderOptions } from './migrationRender.js';
export { migrationsDir, renderMigrations } from './migrationRender.js';
export { personEvents, personJoinKey, personOf } from './people.js';
export type { Regulation, RegulationStatus, RegulationType, RunOptions, SubjectType } from './regulations.js';
export {
  createRegulation,
  getRegulation,
  regulationLog,
  regulationTypes,
  reopenRegulations,
  runRegulation,
  subjectTypes,
  unfinishedRegulations,
} from './regulations.js';
export type { Rollup } from './rollupCorrection.js';
export { correctRollups, findRollups } from './rollupCorrection.js';
export type { EventRow } from './row.js';
export type { BodyIds, LineageRange, StoredInRange, UniqueInsert } from './uniqueEvents.js';
export {
  eventIdOf,
  eventIdsTable,
  insertUniqueEvents,
  knownIds,
  readIds,
  recordIds,
  storedInRange,
} from './uniqueEvents.js';
export type { VisitorNumbering } from './visitorNumbers.js';
export {
  createVisitorNumbering,
  embeddedPartition,
  numberVisitors,
  visitorKey,
  visitorNumbersTable,
  withoutVisitorNumber,
} from './visitorNumbers.js';
export type { Writer } from './writer.js';
export { createWriter } from './writer.js';
