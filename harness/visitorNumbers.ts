import type { ClickHouse } from '@tidemark/store';

/** What `auditVisitorNumbers` counts: each must be 0 for the rollups' visitor bitmaps to be exact. */
export type VisitorNumberAudit = {
  /** Visitors (project, anonymous id) whose rows carry more than one number. */
  visitorsWithSeveralNumbers: number;
  /** Numbers carried by rows of more than one visitor. */
  numbersOfSeveralVisitors: number;
  /** Rows with an anonymous id but no dense number (the column's default: a hash with the top bit set). */
  rowsWithoutNumber: number;
};

/** The audit of a store whose visitor numbers are right: nothing found. */
export const numberedOnce: VisitorNumberAudit = {
  visitorsWithSeveralNumbers: 0,
  numbersOfSeveralVisitors: 0,
  rowsWithoutNumber: 0,
};

/**
 * Checks the visitor numbers of a project's stored rows (store/sql/040_visitor_numbers.sql): one number per
 * visitor, one visitor per number, every row numbered by its writer.
 */
export async function auditVisitorNumbers(
  clickhouse: Pick<ClickHouse, 'query'>,
  project: string,
): Promise<VisitorNumberAudit> {
  const [row] = await clickhouse.query<Record<keyof VisitorNumberAudit, string>>(
    `SELECT
       (SELECT count() FROM (SELECT anonymous_id FROM tidemark.events WHERE project_id = {project:String}
        GROUP BY anonymous_id HAVING uniqExact(visitor_number) > 1)) AS visitorsWithSeveralNumbers,
       (SELECT count() FROM (SELECT visitor_number FROM tidemark.events WHERE project_id = {project:String}
        GROUP BY visitor_number HAVING uniqExact(anonymous_id) > 1)) AS numbersOfSeveralVisitors,
       (SELECT count() FROM tidemark.events WHERE project_id = {project:String} AND anonymous_id != ''
        AND visitor_number >= 9223372036854775808) AS rowsWithoutNumber`,
    { project },
  );
  return {
    visitorsWithSeveralNumbers: Number(row?.visitorsWithSeveralNumbers),
    numbersOfSeveralVisitors: Number(row?.numbersOfSeveralVisitors),
    rowsWithoutNumber: Number(row?.rowsWithoutNumber),
  };
}
