import type { ClickHouse } from './clickhouse.js';
import { StoreError } from './errors.js';

/** Where a deletion keeps the rollup keys it touches until they are corrected (store/sql/031_regulations.sql). */
export const erasureKeysTable = 'tidemark.erasure_keys';

/** A materialized view fed by tidemark.events, and the table it writes to. */
export type Rollup = {
  view: string;
  target: string;
  /** The view's SELECT, as ClickHouse prints it. */
  select: string;
  /** The target's sorting key columns, without `backfill`: one key is one group of the view's output. */
  key: string[];
  /** The view's output columns, in order. */
  columns: string[];
};

const source = 'FROM tidemark.events';
const identifier = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Every materialized view that reads tidemark.events, found in system.tables rather than listed here, so a rollup
 * a later migration adds is corrected too. A view this cannot correct (it reads the events table more than once,
 * or its table's key is not plain columns) is an error naming it, not a rollup silently left uncorrected.
 */
export async function findRollups(ch: ClickHouse): Promise<Rollup[]> {
  const views = await ch.query<{ name: string; as_select: string; create_table_query: string }>(
    `SELECT name, as_select, create_table_query FROM system.tables
     WHERE database = 'tidemark' AND engine = 'MaterializedView' ORDER BY name`,
  );
  const rollups: Rollup[] = [];
  for (const v of views) {
    if (v.as_select.split(source).length - 1 === 0) continue;
    const target = /\bTO (tidemark\.\w+)/.exec(v.create_table_query)?.[1];
    const uses = v.as_select.split(new RegExp(`${source}(?![\\w.])`)).length - 1;
    if (target === undefined || uses !== 1) {
      throw new StoreError(
        'rollup_not_correctable',
        `tidemark.${v.name} cannot be corrected after a deletion: it reads tidemark.events ${uses} times` +
          `${target === undefined ? ' and names no TO table' : ''}`,
      );
    }
    const [table] = await ch.query<{ sorting_key: string }>(
      `SELECT sorting_key FROM system.tables WHERE database = 'tidemark' AND name = {name:String}`,
      { name: target.slice('tidemark.'.length) },
    );
    const key = (table?.sorting_key ?? '')
      .split(',')
      .map((k) => k.trim())
      .filter((k) => k !== '' && k !== 'backfill');
    if (key.length === 0 || !key.every((k) => identifier.test(k))) {
      throw new StoreError(
        'rollup_not_correctable',
        `tidemark.${v.name} cannot be corrected after a deletion: ${target}'s key (${table?.sorting_key}) is not plain columns`,
      );
    }
    const columns = await ch.query<{ name: string }>(
      `SELECT name FROM system.columns WHERE database = 'tidemark' AND table = {view:String} ORDER BY position`,
      { view: v.name },
    );
    rollups.push({ view: v.name, target, select: v.as_select, key, columns: columns.map((c) => c.name) });
  }
  return rollups;
}

/** The view's SELECT over `events` (a subquery) instead of the whole table. */
function over(rollup: Rollup, events: string): string {
  return rollup.select.replace(new RegExp(`${source}(?![\\w.])`), `FROM (${events}) AS events`);
}

const keyOf = (rollup: Rollup) => `toString(tuple(${rollup.key.join(', ')}))`;

/**
 * Before a subject's events are deleted: records each rollup's keys their events fed, and the (project, day)
 * pairs around them whose events the correction re-reads. `where` selects the subject's events; `params` binds
 * it. Safe to repeat: a key recorded twice is the same key.
 */
export async function recordAffectedKeys(
  ch: ClickHouse,
  regulationId: string,
  rollups: readonly Rollup[],
  where: string,
  params: Record<string, unknown>,
): Promise<void> {
  const events = `SELECT * FROM tidemark.events WHERE ${where}`;
  const p = { ...params, regulation: regulationId };
  // A day either side: a session's rows (006) are keyed by the session alone, and a session may cross midnight.
  await ch.command(
    `INSERT INTO ${erasureKeysTable} (regulation_id, view, key)
     SELECT DISTINCT {regulation:String}, '', toString((project_id, d))
     FROM (${events}) ARRAY JOIN [toDate(timestamp) - 1, toDate(timestamp), toDate(timestamp) + 1] AS d`,
    p,
  );
  for (const r of rollups) {
    await ch.command(
      `INSERT INTO ${erasureKeysTable} (regulation_id, view, key)
       SELECT DISTINCT {regulation:String}, {view:String}, ${keyOf(r)} FROM (${over(r, events)})`,
      { ...p, view: r.view },
    );
  }
}

/**
 * After the events are deleted: replaces each recorded key's rollup rows by the view's answer over the events
 * that remain, so sums, exact uniques and sessions are what they would be had the subject never been seen.
 * Delete-then-insert from tidemark.events, so a repeat after a failure recomputes the same rows. The recomputed
 * rows carry `backfill = 0`.
 *
 * Concurrent inserts: the recount reads events inserted before it began (`_inserted_at`), and the delete removes
 * the rows in parts that exist when it is issued. An event inserted into one of the corrected keys in the
 * milliseconds between the two is in neither, and that key undercounts it; the events table holds it still.
 */
export async function correctRollups(
  ch: ClickHouse,
  regulationId: string,
  rollups: readonly Rollup[],
): Promise<Record<string, number>> {
  const corrected: Record<string, number> = {};
  const keys = `SELECT key FROM ${erasureKeysTable} WHERE regulation_id = {regulation:String} AND view = {view:String}`;
  const days = `SELECT key FROM ${erasureKeysTable} WHERE regulation_id = {regulation:String} AND view = ''`;
  for (const r of rollups) {
    const p = { regulation: regulationId, view: r.view };
    const [count] = await ch.query<{ n: string }>(`SELECT count() AS n FROM (${keys})`, p);
    const n = Number(count?.n ?? 0);
    corrected[r.target] = n;
    if (n === 0) continue;
    const [now] = await ch.query<{ at: string }>(`SELECT toString(now64(3, 'UTC')) AS at`);
    await ch.command(`DELETE FROM ${r.target} WHERE ${keyOf(r)} IN (${keys})`, p);
    const events =
      `SELECT * FROM tidemark.events FINAL WHERE toString((project_id, toDate(timestamp))) IN (${days})` +
      ` AND _inserted_at < {cutoff:DateTime64(3, 'UTC')}`;
    const columns = r.columns.map((c) => `\`${c}\``).join(', ');
    await ch.command(
      `INSERT INTO ${r.target} (${columns}) SELECT ${columns} FROM (${over(r, events)}) WHERE ${keyOf(r)} IN (${keys})`,
      { ...p, cutoff: now?.at },
    );
  }
  return corrected;
}

/** Forgets a finished regulation's keys. */
export async function dropAffectedKeys(ch: ClickHouse, regulationId: string): Promise<void> {
  await ch.command(`DELETE FROM ${erasureKeysTable} WHERE regulation_id = {regulation:String}`, {
    regulation: regulationId,
  });
}
