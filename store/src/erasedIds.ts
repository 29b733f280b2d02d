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
  const rows = await ch.query<{ id: string; suppressed: number; deleted_before: string }>(
    `SELECT id, suppressed, if(toUnixTimestamp64Milli(deleted_before) = 0, '', toString(deleted_before))
       AS deleted_before FROM ${erasedIdsTable}`,
  );
  return new Map(
    rows.map((r) => [r.id, { suppressed: r.suppressed === 1, deletedBefore: r.deleted_before }]),
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

/** The lines of `lines` that belong to no erased subject, and how many did. */
export async function withoutErased(
  ch: ClickHouse,
  lines: readonly string[],
): Promise<{ kept: string[]; erased: number }> {
  const erasures = await loadErasures(ch);
  if (erasures.size === 0) return { kept: [...lines], erased: 0 };
  const kept = lines.filter((line) => !isErased(line, erasures));
  return { kept, erased: lines.length - kept.length };
}
