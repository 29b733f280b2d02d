import type { ClickHouse } from './clickhouse.js';

/** The id an event is looked up by in `tidemark.person_map`, in SQL: its user id when it has one. `e`: alias. */
export function personJoinKey(e = ''): string {
  return `if(${e}user_id != '', ${e}user_id, ${e}anonymous_id)`;
}

/**
 * An event's person, in SQL over tidemark.events joined with `tidemark.person_map(project)` as `pm` on
 * `personJoinKey` (store/sql/030_person_links.sql): the person its id resolves to, else that id itself.
 */
export function personOf(e = ''): string {
  return `if(pm.person_id != '', pm.person_id, ${personJoinKey(e)})`;
}

/**
 * Every event of one person in a project, all columns, oldest first, as JSON lines: the right of access
 * (GET /v1/people/{id}/events). The person's ids are found first, so only their rows are read, and each of those
 * is checked to resolve to the person (an anonymous id shared with another user keeps that user's events).
 */
export async function personEvents(ch: ClickHouse, project: string, person: string): Promise<string> {
  const rows = await ch.query<Record<string, unknown>>(
    `WITH ids AS (
       SELECT arrayConcat([{person:String}], groupArray(distinct_id)) AS ids
       FROM tidemark.person_map(project = {project:String}) WHERE person_id = {person:String}
     )
     SELECT e.* EXCEPT (_partition, _offset, _inserted_at)
     FROM (SELECT * FROM tidemark.events FINAL
           WHERE project_id = {project:String}
             AND (has((SELECT ids FROM ids), user_id) OR has((SELECT ids FROM ids), anonymous_id))) AS e
     LEFT JOIN tidemark.person_map(project = {project:String}) AS pm ON pm.distinct_id = ${personJoinKey('e.')}
     WHERE ${personOf('e.')} = {person:String}
     ORDER BY e.timestamp, e.event_id
     SETTINGS join_use_nulls = 0`,
    { project, person },
  );
  return rows.map((r) => `${JSON.stringify(r)}\n`).join('');
}
