import type { ClickHouse } from './clickhouse.js';
import { type QuarantinedRow, quarantineRows } from './insertEvents.js';
import { insertUniqueEvents, recordIds } from './uniqueEvents.js';
import { createVisitorNumbering } from './visitorNumbers.js';

/** Where the embedded gateway hands its rows: resolves only once ClickHouse has them. */
export type Writer = {
  /**
   * Inserts JSONEachRow text (one `EventRow` per line) into `tidemark.events`, leaving out rows whose event id
   * is stored already or earlier in `rows` (DESIGN §6). Resolves after the INSERT returned and the ids were
   * recorded; rows ClickHouse refuses are parked in `tidemark.events_quarantine` like the Kafka sink does.
   * Rejects with a StoreError whose `retriable` tells the gateway whether to answer 503.
   */
  write(rows: string): Promise<void>;
  /** Parks lines the gateway refused in `tidemark.events_quarantine`, where the Kafka sink parks its own. */
  quarantine(rows: QuarantinedRow[]): Promise<void>;
};

/**
 * The embedded writer's visitor counter (store/sql/040): chDB opens one data directory per process, so every
 * writer of this process numbers the same store, and one counter keeps their numbers apart.
 */
const embeddedVisitors = createVisitorNumbering();

/**
 * The embedded-mode writer (DESIGN §1): one INSERT per gateway request, no Kafka in between. The lineage
 * columns keep their defaults (`_partition` and `_offset` 0), which marks these rows as never seen by Kafka.
 */
export function createWriter(opts: { clickhouse: ClickHouse }): Writer {
  const { clickhouse } = opts;
  return {
    async write(rows) {
      // No token: the writer has no replay to deduplicate, and a token taken by an insert killed before its part
      // landed would drop the client's resend. A kill between the insert and `recordIds` leaves a copy to be
      // stored again on resend, which ReplacingMergeTree collapses on merge (DESIGN §6).
      const result = await insertUniqueEvents(clickhouse, rows, { visitors: embeddedVisitors });
      await recordIds(clickhouse, result.ids);
    },
    async quarantine(rows) {
      await quarantineRows(clickhouse, rows);
    },
  };
}
