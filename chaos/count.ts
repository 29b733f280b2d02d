// The end of every delivery scenario: what the load generator was told was delivered, against what ClickHouse
// holds and what the shipped `overview` query reports (DESIGN §6: sent = distinct stored = counted, no
// duplicate row visible to the queries).
import { auditVisitorNumbers } from '../harness/visitorNumbers.js';
import type { QueryRunner } from '../queries/src/index.js';
import { runQuery } from '../queries/src/index.js';

/** The counts a DeliveryResult reports, and what explains them. */
export interface DeliveryCounts {
  /** Acknowledged ids. */
  sent: number;
  /** Acknowledged ids found in tidemark.events. */
  stored: number;
  lost: number;
  /** Rows beyond one per event id under FINAL (what the queries see), over all the project's ids. */
  doubled: number;
  /** `overview`'s page views for the project and range (every load event is a page view). */
  counted: number;
  /** A few lost ids, for the report. */
  lostIds: string[];
  /** Every lost id, to look for elsewhere (the topic). */
  allLostIds: string[];
  /** Ids stored that were never acknowledged (a request that reached Kafka but whose answer was lost). */
  unacknowledgedStored: number;
  /** Rows beyond one per id without FINAL: copies a plain count() sees (0 since exact-at-insert, DESIGN §6). */
  rawDuplicates: number;
  /**
   * Visitors whose rows carry several visitor numbers, numbers carried by several visitors, and rows without one
   * (harness/visitorNumbers.ts): 0, or the rollups' visitor counts are off.
   */
  renumbered: number;
}

/**
 * Compares `acked` (event ids with a 2xx) with the project's rows. The range should hold every event's
 * timestamp; the load generator stamps events with the time they were created.
 */
export async function countDelivery(
  clickhouse: QueryRunner,
  { projectId, acked, from, to }: { projectId: string; acked: Iterable<string>; from: Date; to: Date },
): Promise<DeliveryCounts> {
  const [perId, [raw], [overview], numbering] = await Promise.all([
    clickhouse.query<{ id: string; rows: number | string }>(
      `SELECT toString(event_id) AS id, count() AS rows FROM tidemark.events FINAL
        WHERE project_id = {project:String} GROUP BY event_id`,
      { project: projectId },
    ),
    clickhouse.query<{ rows: number | string; ids: number | string }>(
      `SELECT count() AS rows, uniqExact(event_id) AS ids FROM tidemark.events WHERE project_id = {project:String}`,
      { project: projectId },
    ),
    runQuery<'overview', { pageviews: number | string }>(clickhouse, 'overview', {
      project: projectId,
      from,
      to,
      host: '',
      country: '',
      device_type: '',
    }),
    auditVisitorNumbers(clickhouse, projectId),
  ]);
  const rowsById = new Map(perId.map((row) => [row.id, Number(row.rows)]));
  const ackedIds = new Set(acked);
  const lostIds = [...ackedIds].filter((id) => !rowsById.has(id));
  let doubled = 0;
  for (const rows of rowsById.values()) doubled += rows - 1;
  let unacknowledgedStored = 0;
  for (const id of rowsById.keys()) if (!ackedIds.has(id)) unacknowledgedStored++;
  return {
    sent: ackedIds.size,
    stored: ackedIds.size - lostIds.length,
    lost: lostIds.length,
    doubled,
    counted: Number(overview?.pageviews ?? 0),
    lostIds: lostIds.slice(0, 5),
    allLostIds: lostIds,
    unacknowledgedStored,
    rawDuplicates: Number(raw?.rows ?? 0) - Number(raw?.ids ?? 0),
    renumbered:
      numbering.visitorsWithSeveralNumbers + numbering.numbersOfSeveralVisitors + numbering.rowsWithoutNumber,
  };
}
