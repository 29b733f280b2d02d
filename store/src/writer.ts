import type { ClickHouse } from './clickhouse.js';
import { insertEvents, type QuarantinedRow, quarantineRows } from './insert-events.js';

/** Where the embedded gateway hands its rows: resolves only once ClickHouse has them. */
export type Writer = {
  /**
   * Inserts JSONEachRow text (one `EventRow` per line) into `tidemark.events`. Resolves after the INSERT
   * returned; rows ClickHouse refuses are parked in `tidemark.events_quarantine` like the Kafka sink does.
   * Rejects with a StoreError whose `retriable` tells the gateway whether to answer 503.
   */
  write(rows: string): Promise<void>;
  /** Parks lines the gateway refused in `tidemark.events_quarantine`, where the Kafka sink parks its own. */
  quarantine(rows: QuarantinedRow[]): Promise<void>;
};

/**
 * The embedded-mode writer (DESIGN §1): one INSERT per gateway request, no Kafka in between. The lineage
 * columns keep their defaults (`_partition` and `_offset` 0), which marks these rows as never seen by Kafka.
 */
export function createWriter(opts: { clickhouse: ClickHouse }): Writer {
  const { clickhouse } = opts;
  return {
    async write(rows) {
      await insertEvents(clickhouse, rows);
    },
    async quarantine(rows) {
      await quarantineRows(clickhouse, rows);
    },
  };
}
