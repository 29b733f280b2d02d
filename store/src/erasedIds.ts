import type { ClickHouse } from './clickhouse.js';

/** The ids regulations erased or suppressed (store/sql/031_regulations.sql). */
export const erasedIdsTable = 'tidemark.erased_ids';

/**
 * An erased id as the table keys it: `u:` a user id (every event carrying it), `a:` an anonymous id named by an
 * ANONYMOUS_ID regulation (every event carrying it), `p:` an anonymous id of an erased person (only its events
 * without a user id: with one, the event is that user's, e.g. another user logged in on a shared computer).
 */
export type ErasedKey = `${'u' | 'a' | 'p'}:${string}`;

/** What a regulation left for an id: drop all its events, or those from before a moment. */
export type Erasure = {
  /** Drop every event of the id. */
  suppressed: boolean;
  /** Drop the events that happened or were received before this (`YYYY-MM-DD hh:mm:ss.mmm`, UTC); '' none. */
  deletedBefore: string;
  /** The regulation that wrote it last; absent where it does not matter (a new erasure being merged). */
  regulationId?: string;
};

// Rows are JSON objects whose string values are escaped, so `"name":"` unescaped is the row's own key.
const field = (name: string) => new RegExp(`"${name}":"((?:[^"\\\\]|\\\\.)*)"`);
const anonymousIdField = field('anonymous_id');
const userIdField = field('user_id');
const timestampField = field('timestamp');
const receivedAtField = field('received_at');

function stringOf(line: string, re: RegExp): string {
  const raw = re.exec(line)?.[1];
  if (raw === undefined) return '';
  return raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw;
}

/** Every erased id, read whole: the table holds one row per erased id, few beside the events. */
export async function loadErasures(ch: ClickHouse): Promise<Map<string, Erasure>> {
  const rows = await ch.query<{
    id: string;
    regulation_id: string;
    suppressed: number;
    deleted_before: string;
  }>(
    `SELECT id, regulation_id, suppressed,
       if(toUnixTimestamp64Milli(deleted_before) = 0, '', toString(deleted_before)) AS deleted_before
     FROM ${erasedIdsTable}`,
  );
  return new Map(
    rows.map((r) => [
      r.id,
      { suppressed: r.suppressed === 1, deletedBefore: r.deleted_before, regulationId: r.regulation_id },
    ]),
  );
}

/**
 * Whether a row (one JSONEachRow line of `EventRow`) belongs to an erased subject: it carries a suppressed id,
 * or an erased id and a time before the erasure (its `timestamp` or its `received_at`: an event from before the
 * deletion is covered by it whenever it arrives).
 */
export function isErased(line: string, erasures: ReadonlyMap<string, Erasure>): boolean {
  if (erasures.size === 0) return false;
  const anonymousId = stringOf(line, anonymousIdField);
  const userId = stringOf(line, userIdField);
  const found: Erasure[] = [];
  const add = (key: string) => {
    const e = erasures.get(key);
    if (e !== undefined) found.push(e);
  };
  if (userId !== '') add(`u:${userId}`);
  if (anonymousId !== '') {
    add(`a:${anonymousId}`);
    if (userId === '') add(`p:${anonymousId}`);
  }
  if (found.length === 0) return false;
  if (found.some((e) => e.suppressed)) return true;
  const timestamp = stringOf(line, timestampField);
  const receivedAt = stringOf(line, receivedAtField);
  return found.some(
    (e) =>
      e.deletedBefore !== '' &&
      ((timestamp !== '' && timestamp < e.deletedBefore) ||
        (receivedAt !== '' && receivedAt < e.deletedBefore)),
  );
}

/** An anonymous id that a dropped row of an erased user id revealed as theirs, and that user's erasure. */
export type ErasedLink = { anonymousId: string; userId: string; erasure: Erasure };

/**
 * The anonymous ids that rows of `lines` dropped for their erased user id (`u:`) carry, where no erasure names
 * the anonymous id yet: an identify (or any event with both ids) of a device the regulation could not know,
 * because the row that links it was still on its way (in Kafka's backlog, an SDK queue) when its ids were
 * expanded. Dropping the row keeps its link out of tidemark.person_links, so without this the device's earlier
 * anonymous events would stay.
 */
export function erasedLinks(lines: readonly string[], erasures: ReadonlyMap<string, Erasure>): ErasedLink[] {
  if (erasures.size === 0) return [];
  const found = new Map<string, ErasedLink>();
  for (const line of lines) {
    const userId = stringOf(line, userIdField);
    const anonymousId = stringOf(line, anonymousIdField);
    if (userId === '' || anonymousId === '' || found.has(anonymousId)) continue;
    const erasure = erasures.get(`u:${userId}`);
    if (erasure === undefined || erasures.has(`p:${anonymousId}`) || erasures.has(`a:${anonymousId}`))
      continue;
    if (!isErased(line, new Map([[`u:${userId}`, erasure]]))) continue;
    found.set(anonymousId, { anonymousId, userId, erasure });
  }
  return [...found.values()];
}

/**
 * Records each link's anonymous id as the erased person's (`p:`, their events without a user id), with the
 * user id's erasure and regulation, so later inserts leave those events out and the regulation's next sweep
 * (or, once it finished, its reopening: `reopenRegulations`) deletes the ones stored. An anonymous id whose
 * earliest stored link is another user's is left alone: its anonymous events are that user's (DESIGN §5a).
 */
export async function recordErasedLinks(ch: ClickHouse, links: readonly ErasedLink[]): Promise<number> {
  if (links.length === 0) return 0;
  const owners = await ch.query<{ distinct_id: string; user_id: string }>(
    `SELECT distinct_id, min(link).2 AS user_id FROM tidemark.person_links
     WHERE has({ids:Array(String)}, distinct_id) GROUP BY project_id, distinct_id`,
    { ids: links.map((l) => l.anonymousId) },
  );
  const taken = new Set(
    owners
      .filter((o) => links.some((l) => l.anonymousId === o.distinct_id && l.userId !== o.user_id))
      .map((o) => o.distinct_id),
  );
  const rows = links
    .filter((l) => !taken.has(l.anonymousId))
    .map((l) =>
      JSON.stringify({
        id: `p:${l.anonymousId}`,
        regulation_id: l.erasure.regulationId ?? '',
        suppressed: l.erasure.suppressed ? 1 : 0,
        deleted_before: l.erasure.deletedBefore || '1970-01-01 00:00:00.000',
      }),
    );
  if (rows.length > 0) await ch.insertJsonEachRow(erasedIdsTable, `${rows.join('\n')}\n`);
  return rows.length;
}

/**
 * The lines of `lines` that belong to no erased subject, and how many did. The anonymous ids the dropped rows
 * reveal as an erased person's are recorded first (`erasedLinks`).
 */
export async function withoutErased(
  ch: ClickHouse,
  lines: readonly string[],
): Promise<{ kept: string[]; erased: number }> {
  const erasures = await loadErasures(ch);
  if (erasures.size === 0) return { kept: [...lines], erased: 0 };
  const kept = lines.filter((line) => !isErased(line, erasures));
  if (kept.length < lines.length) {
    const dropped = lines.filter((line) => isErased(line, erasures));
    await recordErasedLinks(ch, erasedLinks(dropped, erasures));
  }
  return { kept, erased: lines.length - kept.length };
}
