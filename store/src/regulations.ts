import { randomUUID } from 'node:crypto';
import type { ClickHouse } from './clickhouse.js';
import { type Erasure, erasedIdsTable, loadErasures } from './erasedIds.js';
import { StoreError } from './errors.js';
import { eventsTable, quarantineTable } from './insertEvents.js';
import { correctRollups, dropAffectedKeys, findRollups, recordAffectedKeys } from './rollupCorrection.js';

/** What a regulation does (Segment's Regulations API). */
export type RegulationType = 'DELETE_ONLY' | 'SUPPRESS_ONLY' | 'SUPPRESS_WITH_DELETE' | 'UNSUPPRESS';
/** What its subject ids are. */
export type SubjectType = 'USER_ID' | 'ANONYMOUS_ID';
/** Where it is: RUNNING until every step is done, FAILED with `error` (it is resumed on the next start). */
export type RegulationStatus = 'INITIALIZED' | 'RUNNING' | 'FINISHED' | 'FAILED';

export const regulationTypes: readonly RegulationType[] = [
  'DELETE_ONLY',
  'SUPPRESS_ONLY',
  'SUPPRESS_WITH_DELETE',
  'UNSUPPRESS',
];
export const subjectTypes: readonly SubjectType[] = ['USER_ID', 'ANONYMOUS_ID'];

/** One regulation and its progress. */
export type Regulation = {
  id: string;
  /** When it was requested (UTC, `YYYY-MM-DD hh:mm:ss.mmm`): a deletion covers the subject's events before it. */
  createdAt: string;
  updatedAt: string;
  regulationType: RegulationType;
  subjectType: SubjectType;
  subjectIds: string[];
  /** Who asked, as the request said (the `requestedBy` field, else 'admin'). */
  requestedBy: string;
  status: RegulationStatus;
  /** Every id it applies to once expanded: `u:<user id>`, `p:<a person's anonymous id>`, `a:<anonymous id>`. */
  ids: string[];
  /** Rows removed, by table. */
  removed: Record<string, number>;
  error: string;
};

const regulationsTable = 'tidemark.regulations';
const logTable = 'tidemark.regulation_log';

type Row = {
  id: string;
  created_at: string;
  updated_at: string;
  regulation_type: RegulationType;
  subject_type: SubjectType;
  subject_ids: string[];
  requested_by: string;
  status: RegulationStatus;
  ids: string[];
  removed: Record<string, string | number>;
  error: string;
};

const fromRow = (r: Row): Regulation => ({
  id: r.id,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  regulationType: r.regulation_type,
  subjectType: r.subject_type,
  subjectIds: r.subject_ids,
  requestedBy: r.requested_by,
  status: r.status,
  ids: r.ids,
  removed: Object.fromEntries(Object.entries(r.removed).map(([k, v]) => [k, Number(v)])),
  error: r.error,
});

async function save(ch: ClickHouse, reg: Regulation): Promise<Regulation> {
  const [now] = await ch.query<{ at: string }>(`SELECT toString(now64(3, 'UTC')) AS at`);
  const saved = { ...reg, updatedAt: now?.at ?? reg.updatedAt };
  const row: Row = {
    id: saved.id,
    created_at: saved.createdAt,
    updated_at: saved.updatedAt,
    regulation_type: saved.regulationType,
    subject_type: saved.subjectType,
    subject_ids: saved.subjectIds,
    requested_by: saved.requestedBy,
    status: saved.status,
    ids: saved.ids,
    removed: saved.removed,
    error: saved.error,
  };
  await ch.insertJsonEachRow(regulationsTable, `${JSON.stringify(row)}\n`);
  return saved;
}

async function audit(ch: ClickHouse, id: string, step: string, detail: unknown): Promise<void> {
  await ch.insertJsonEachRow(
    logTable,
    `${JSON.stringify({ regulation_id: id, step, detail: JSON.stringify(detail) })}\n`,
  );
}

/** Records a regulation (durable before this resolves) and its first audit line; `runRegulation` carries it out. */
export async function createRegulation(
  ch: ClickHouse,
  req: {
    regulationType: RegulationType;
    subjectType: SubjectType;
    subjectIds: string[];
    requestedBy: string;
  },
): Promise<Regulation> {
  const [now] = await ch.query<{ at: string }>(`SELECT toString(now64(3, 'UTC')) AS at`);
  const at = now?.at ?? '';
  const reg = await save(ch, {
    id: randomUUID(),
    createdAt: at,
    updatedAt: at,
    ...req,
    subjectIds: [...new Set(req.subjectIds)],
    status: 'INITIALIZED',
    ids: [],
    removed: {},
    error: '',
  });
  await audit(ch, reg.id, 'requested', { ...req, by: req.requestedBy });
  return reg;
}

/** A regulation by id; rejects with `regulation_not_found`. */
export async function getRegulation(ch: ClickHouse, id: string): Promise<Regulation> {
  const rows = await ch.query<Row>(`SELECT * FROM ${regulationsTable} FINAL WHERE id = {id:String}`, { id });
  const row = rows[0];
  if (row === undefined) throw new StoreError('regulation_not_found', `No regulation ${JSON.stringify(id)}`);
  return fromRow(row);
}

/** Regulations not finished: every process that runs regulations resumes them when it starts. */
export async function unfinishedRegulations(ch: ClickHouse): Promise<Regulation[]> {
  const rows = await ch.query<Row>(
    `SELECT * FROM ${regulationsTable} FINAL WHERE status != 'FINISHED' ORDER BY created_at`,
  );
  return rows.map(fromRow);
}

/** The audit trail of a regulation, oldest first. */
export async function regulationLog(
  ch: ClickHouse,
  id: string,
): Promise<{ at: string; step: string; detail: string }[]> {
  return ch.query(
    `SELECT toString(at) AS at, step, detail FROM ${logTable} WHERE regulation_id = {id:String} ORDER BY at`,
    { id },
  );
}

/**
 * The ids a regulation applies to. A user id brings every id whose earliest link resolves to it (store/sql/
 * 030_person_links.sql), up to three links deep: its anonymous ids (as `p:`, their events without a user id) and
 * the former user ids an alias renamed (as `u:` too). An anonymous id is taken as named: erase a person across
 * devices by their user id.
 */
async function expand(ch: ClickHouse, reg: Regulation): Promise<string[]> {
  if (reg.subjectType === 'ANONYMOUS_ID') return reg.subjectIds.map((id) => `a:${id}`);
  const users = new Set(reg.subjectIds);
  const linked = new Set<string>();
  let frontier = [...users];
  for (let hop = 0; hop < 3 && frontier.length > 0; hop += 1) {
    const rows = await ch.query<{ distinct_id: string }>(
      `SELECT distinct_id FROM (
         SELECT distinct_id, min(link).2 AS user_id FROM tidemark.person_links GROUP BY project_id, distinct_id)
       WHERE has({users:Array(String)}, user_id)`,
      { users: frontier },
    );
    frontier = rows.map((r) => r.distinct_id).filter((id) => !linked.has(id) && !users.has(id));
    for (const id of frontier) linked.add(id);
  }
  return [...[...users, ...linked].map((id) => `u:${id}`), ...[...linked].map((id) => `p:${id}`)];
}

/** Writes each id's new erasure, merged with what earlier regulations left for it. */
async function recordErasures(ch: ClickHouse, reg: Regulation): Promise<void> {
  const existing = await loadErasures(ch);
  const deletes = reg.regulationType === 'DELETE_ONLY' || reg.regulationType === 'SUPPRESS_WITH_DELETE';
  const lines = reg.ids.map((id) => {
    const was: Erasure = existing.get(id) ?? { suppressed: false, deletedBefore: '' };
    const suppressed =
      reg.regulationType === 'SUPPRESS_ONLY' || reg.regulationType === 'SUPPRESS_WITH_DELETE'
        ? true
        : reg.regulationType === 'UNSUPPRESS'
          ? false
          : was.suppressed;
    const deletedBefore =
      deletes && reg.createdAt > was.deletedBefore
        ? reg.createdAt
        : was.deletedBefore || '1970-01-01 00:00:00.000';
    return JSON.stringify({
      id,
      regulation_id: reg.id,
      suppressed: suppressed ? 1 : 0,
      deleted_before: deletedBefore,
    });
  });
  if (lines.length > 0) await ch.insertJsonEachRow(erasedIdsTable, `${lines.join('\n')}\n`);
}

/** SQL selecting the events of `ids` (as `expand` names them), and its parameters. */
function subjectWhere(ids: readonly string[]): { where: string; params: Record<string, unknown> } {
  const of = (kind: string) => ids.filter((id) => id.startsWith(`${kind}:`)).map((id) => id.slice(2));
  return {
    where:
      "(has({u:Array(String)}, user_id) OR (user_id = '' AND has({p:Array(String)}, anonymous_id))" +
      ' OR has({a:Array(String)}, anonymous_id))',
    params: { u: of('u'), p: of('p'), a: of('a') },
  };
}

/** The quarantine's lines of `ids`: a line is text (it may not parse), so its ids are matched as JSON text. */
function quarantineWhere(ids: readonly string[]): { where: string; params: Record<string, unknown> } {
  const needle = (column: string, id: string) => `"${column}":${JSON.stringify(id)}`;
  const any = ids.flatMap((id) =>
    id.startsWith('u:')
      ? [needle('user_id', id.slice(2))]
      : id.startsWith('a:')
        ? [needle('anonymous_id', id.slice(2))]
        : [],
  );
  const anonymousOnly = ids
    .filter((id) => id.startsWith('p:'))
    .map((id) => needle('anonymous_id', id.slice(2)));
  return {
    where: `(multiSearchAny(row, {any:Array(String)}) OR (multiSearchAny(row, {p:Array(String)}) AND position(row, '"user_id":""') > 0))`,
    params: { any, p: anonymousOnly },
  };
}

async function count(ch: ClickHouse, table: string, where: string, params: Record<string, unknown>) {
  const [row] = await ch.query<{ n: string }>(`SELECT count() AS n FROM ${table} WHERE ${where}`, params);
  return Number(row?.n ?? 0);
}

/**
 * The ids erased_ids holds for the regulation beyond `reg.ids`: the anonymous ids inserts found to be the erased
 * person's after it expanded its subjects (store/src/erasedIds.ts `recordErasedLinks`).
 */
async function idsFoundLater(ch: ClickHouse, reg: Regulation): Promise<string[]> {
  const rows = await ch.query<{ id: string }>(
    `SELECT id FROM ${erasedIdsTable} WHERE regulation_id = {id:String} AND NOT has({ids:Array(String)}, id)`,
    { id: reg.id, ids: reg.ids },
  );
  return rows.map((r) => r.id);
}

/**
 * Finished regulations for which inserts have since recorded ids they did not cover (a device's identify that
 * reached the sink after the last sweep): each is set RUNNING again, audited, and answered, for the caller to
 * run (`runRegulation`), so the device's stored anonymous events are deleted and its rollups corrected too.
 */
export async function reopenRegulations(ch: ClickHouse): Promise<string[]> {
  const rows = await ch.query<{ id: string; found: string[] }>(
    `SELECT r.id AS id, groupArray(e.id) AS found
     FROM ${erasedIdsTable} AS e
     INNER JOIN (SELECT id, ids FROM ${regulationsTable} FINAL WHERE status = 'FINISHED') AS r
       ON r.id = e.regulation_id
     WHERE NOT has(r.ids, e.id)
     GROUP BY r.id`,
  );
  for (const row of rows) {
    const reg = await getRegulation(ch, row.id);
    if (reg.status !== 'FINISHED') continue;
    await save(ch, { ...reg, status: 'RUNNING' });
    await audit(ch, reg.id, 'reopened', { found: row.found });
  }
  return rows.map((r) => r.id);
}

/** One pass of deletion: rollup keys first, then the rows, then the rollups recomputed. Safe to repeat. */
async function deletePass(ch: ClickHouse, reg: Regulation, removed: Record<string, number>): Promise<number> {
  const subject = subjectWhere(reg.ids);
  const quarantined = quarantineWhere(reg.ids);
  // DELETE_ONLY removes what happened before the regulation and keeps what came after (the insert filter keeps
  // those too: erasedIds.isErased); a pass run later must not take them. The same test as the filter's: an
  // event's time or its arrival before the regulation.
  const bounded = reg.regulationType === 'DELETE_ONLY';
  const before = "(timestamp < {before:DateTime64(3, 'UTC')} OR received_at < {before:DateTime64(3, 'UTC')})";
  const events = bounded
    ? { where: `${subject.where} AND ${before}`, params: { ...subject.params, before: reg.createdAt } }
    : subject;
  const parked = bounded
    ? {
        where: `${quarantined.where} AND quarantined_at < {before:DateTime64(3, 'UTC')}`,
        params: { ...quarantined.params, before: reg.createdAt },
      }
    : quarantined;
  const inEvents = await count(ch, eventsTable, events.where, events.params);
  const inQuarantine = await count(ch, quarantineTable, parked.where, parked.params);
  if (inEvents > 0) {
    const rollups = await findRollups(ch);
    await recordAffectedKeys(ch, reg.id, rollups, events.where, events.params);
    await ch.command(`DELETE FROM ${eventsTable} WHERE ${events.where}`, events.params);
    const corrected = await correctRollups(ch, reg.id, rollups);
    await audit(ch, reg.id, 'rollups_corrected', corrected);
  }
  if (inQuarantine > 0)
    await ch.command(`DELETE FROM ${quarantineTable} WHERE ${parked.where}`, parked.params);
  removed[eventsTable] = (removed[eventsTable] ?? 0) + inEvents;
  removed[quarantineTable] = (removed[quarantineTable] ?? 0) + inQuarantine;
  await audit(ch, reg.id, 'deleted', { [eventsTable]: inEvents, [quarantineTable]: inQuarantine });
  return inEvents + inQuarantine;
}

/** Options of `runRegulation`. */
export type RunOptions = {
  /**
   * How long to wait after the first deletion before sweeping again: longer than an insert takes from reading
   * tidemark.erased_ids to its rows landing (a flush of the sink, a request of the embedded writer), so rows of
   * an insert that began before the erasure was recorded are found by the sweep. Default 30 000 ms.
   */
  settleMs?: number;
};

/**
 * Carries a regulation out, from wherever it stopped: expands its subjects into every id of the person, records
 * them in tidemark.erased_ids (from then on every insert leaves their rows out: suppressed ones all, deleted ones
 * those from before the regulation), deletes their rows from tidemark.events and the quarantine and recomputes
 * the rollups they fed, then waits `settleMs` and sweeps again until a sweep finds nothing. Every step is safe to
 * repeat, so a process killed half-way resumes it (`unfinishedRegulations`) and ends in the same state.
 */
export async function runRegulation(ch: ClickHouse, id: string, opts: RunOptions = {}): Promise<Regulation> {
  const settleMs = opts.settleMs ?? 30_000;
  let reg = await getRegulation(ch, id);
  if (reg.status === 'FINISHED') return reg;
  try {
    reg = await save(ch, { ...reg, status: 'RUNNING', error: '' });
    let ids = await expand(ch, reg);
    if (reg.regulationType === 'UNSUPPRESS') {
      // What earlier regulations suppressed for these subjects, whatever their links say now.
      const earlier = await ch.query<{ ids: string[] }>(
        `SELECT ids FROM ${regulationsTable} FINAL
         WHERE subject_type = {type:String} AND hasAny(subject_ids, {subjects:Array(String)}) AND id != {id:String}`,
        { type: reg.subjectType, subjects: reg.subjectIds, id: reg.id },
      );
      ids = [...new Set([...ids, ...earlier.flatMap((r) => r.ids)])];
    }
    reg = await save(ch, { ...reg, ids: [...new Set([...reg.ids, ...ids])] });
    await recordErasures(ch, reg);
    await audit(ch, reg.id, 'ids_recorded', { ids: reg.ids.length });
    if (reg.regulationType === 'DELETE_ONLY' || reg.regulationType === 'SUPPRESS_WITH_DELETE') {
      const removed = { ...reg.removed };
      // Each pass also covers the ids inserts found to be the person's since the last (a device whose identify
      // was still on its way when the subjects were expanded); a pass that found new ids is never the last.
      const pass = async () => {
        const found = await idsFoundLater(ch, reg);
        if (found.length > 0) {
          reg = await save(ch, { ...reg, ids: [...reg.ids, ...found] });
          await audit(ch, reg.id, 'ids_found', { ids: found });
        }
        return (await deletePass(ch, reg, removed)) + found.length;
      };
      await pass();
      for (let sweep = 0; sweep < 10; sweep += 1) {
        await new Promise((resolve) => setTimeout(resolve, settleMs));
        if ((await pass()) === 0) break;
      }
      await dropAffectedKeys(ch, reg.id);
      reg = { ...reg, removed };
    }
    reg = await save(ch, { ...reg, status: 'FINISHED' });
    await audit(ch, reg.id, 'finished', reg.removed);
    return reg;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    reg = await save(ch, { ...reg, status: 'FAILED', error: message.slice(0, 2_000) }).catch(() => reg);
    await audit(ch, reg.id, 'failed', { error: message.slice(0, 2_000) }).catch(() => {});
    throw error;
  }
}
