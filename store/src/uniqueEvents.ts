import { createHash } from 'node:crypto';
import type { ClickHouse } from './clickhouse.js';
import { withoutErased } from './erasedIds.js';
import { eventsTable, insertEvents, quarantineTable, type RejectedRow } from './insertEvents.js';
import { numberVisitors, type VisitorNumbering } from './visitorNumbers.js';

/** The ids of stored events, kept 30 days after they were last written (store/sql/008_event_ids.sql). */
export const eventIdsTable = 'tidemark.event_ids';

/** The Kafka messages a flush covers: one partition, `first` … `last` inclusive. */
export type LineageRange = { topic: string; partition: number; first: string; last: string };

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// Rows are JSON objects whose string values are escaped, so `"event_id":"` unescaped is the row's own key.
const eventIdField =
  /"event_id":"([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})"/;

/** The row's event id, lower case as ClickHouse prints a UUID; undefined when it is missing or no UUID. */
export function eventIdOf(line: string): string | undefined {
  return eventIdField.exec(line)?.[1]?.toLowerCase();
}

/** Ids per lookup on a server: each statement stays far below `max_query_size` (256 KiB) at 39 bytes an id. */
const lookupChunk = 2_000;

/**
 * Which of `ids` are in `tidemark.event_ids`: a point read per id in the key-value table. Only UUIDs are looked
 * up (no other id can be stored). chDB gets them as one String parameter, joined by commas, which the engine
 * splits and reads as UUIDs: binding them as an Array(UUID) costs a quoted, escaped literal per id in
 * JavaScript and its parse in the engine (measured here, 33 000 ids: 0.16–0.49 s of CPU as an array, 0.13–0.19 s as
 * one string). The direct join reads the key-value table by key, a point read per id whatever its size. A server
 * gets the ids in the statement's text, which travels in the request body: a bound parameter goes in the URL of
 * a server request, past its length limit (1 MiB on a ClickHouse server, 16 KiB on Node's HTTP parser). Being
 * UUIDs, hex digits and dashes only, they need no escaping there.
 */
export async function knownIds(ch: ClickHouse, ids: readonly string[]): Promise<Set<string>> {
  const valid = ids.filter((id) => uuid.test(id));
  const known = new Set<string>();
  if (ch.backend === 'chdb') {
    if (valid.length === 0) return known;
    const rows = await ch.query<{ id: string }>(
      `SELECT toString(sent.event_id) AS id
       FROM (SELECT toUUID(arrayJoin(splitByChar(',', {ids:String}))) AS event_id) AS sent
       INNER JOIN ${eventIdsTable} AS stored ON sent.event_id = stored.event_id
       SETTINGS join_algorithm = 'direct'`,
      { ids: valid.join(',') },
    );
    for (const row of rows) known.add(row.id);
    return known;
  }
  const select = `SELECT toString(event_id) AS id FROM ${eventIdsTable} WHERE event_id IN`;
  for (let i = 0; i < valid.length; i += lookupChunk) {
    const chunk = valid.slice(i, i + lookupChunk);
    const rows = await ch.query<{ id: string }>(`${select} ('${chunk.join("','")}')`);
    for (const row of rows) known.add(row.id);
  }
  return known;
}

/**
 * Adds ids to `tidemark.event_ids`. Only for rows whose insert returned: an id there tells every later insert
 * that the row is stored. Writing an id again keeps one key and restarts its TTL.
 */
export async function recordIds(ch: ClickHouse, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await ch.insertJsonEachRow(eventIdsTable, ids.map((id) => `{"event_id":"${id}"}\n`).join(''));
}

/** What earlier inserts of a range left: the event ids stored from it, and its lines parked in the quarantine. */
export type StoredInRange = { ids: Set<string>; quarantined: Set<string> };

/**
 * Reads, by their lineage (`_topic`, `_partition`, `_offset`), what is stored of a range of Kafka messages: the
 * truth about an earlier insert of it, whatever its token and whether or not its ids were recorded.
 */
export async function storedInRange(ch: ClickHouse, range: LineageRange): Promise<StoredInRange> {
  const inRange = '_partition = {partition:UInt32} AND _offset BETWEEN {first:UInt64} AND {last:UInt64}';
  const ids = await ch.query<{ id: string }>(
    `SELECT DISTINCT toString(event_id) AS id FROM ${eventsTable} WHERE _topic = {topic:String} AND ${inRange}`,
    range,
  );
  const parked = await ch.query<{ row: string }>(
    `SELECT row FROM ${quarantineTable} WHERE topic = {topic:String} AND ${inRange}`,
    range,
  );
  return { ids: new Set(ids.map((r) => r.id)), quarantined: new Set(parked.map((r) => r.row)) };
}

/** What `insertUniqueEvents` did. */
export type UniqueInsert = {
  /** Rows parked in the quarantine. */
  quarantined: number;
  rejected: RejectedRow[];
  /** Rows left out because their event id was in `tidemark.event_ids` or earlier in the same body. */
  duplicates: number;
  /** Of `duplicates`, the rows whose id was recorded as stored (`tidemark.event_ids`, or `storedSince`). */
  known: number;
  /** Rows left out because an earlier insert of their range stored them (`ranges` only). */
  storedBefore: number;
  /** Of `storedBefore`, the lines an earlier insert of their range parked in the quarantine. */
  parked: number;
  /** Rows left out because they belong to an erased or suppressed subject (store/src/erasedIds.ts). */
  erased: number;
  /** The lines sent to ClickHouse, JSONEachRow text ('' when none). */
  text: string;
  /** Lines in `text`. */
  sent: number;
  /** The ids to `recordIds` once the caller trusts that `text` is stored: what was inserted and stored before. */
  ids: string[];
  /** The token the insert went under. */
  dedupToken?: string;
};

/** A body's lines and event ids, and which of those ids `tidemark.event_ids` held when `readIds` looked. */
export type BodyIds = {
  /** The body's lines, empty ones left out. */
  lines: string[];
  /** Each line's event id (`eventIdOf`). */
  ids: (string | undefined)[];
  /** The distinct ids of `ids`. */
  unique: Set<string>;
  /** The ids of `unique` that were in `tidemark.event_ids`. */
  known: Set<string>;
};

/**
 * Splits `body` into lines and looks their event ids up (`knownIds`). The first half of `insertUniqueEvents`,
 * for a caller that looks a body up while the insert before it still runs: what that insert records after the
 * lookup began is not in `known`, and the caller passes it to `insertUniqueEvents` as `storedSince`.
 */
export async function readIds(ch: ClickHouse, body: string): Promise<BodyIds> {
  const lines = body.split('\n').filter((l) => l.length > 0);
  const ids = lines.map(eventIdOf);
  const unique = new Set<string>();
  for (const id of ids) if (id !== undefined) unique.add(id);
  return {
    lines,
    ids,
    unique,
    known: await knownIds(ch, [...unique]),
  };
}

/**
 * Inserts the rows of `body` whose event id is not stored yet (DESIGN §6): a row whose id is in
 * `tidemark.event_ids`, or already earlier in `body`, is left out. With `ranges` (a replay or a retry of Kafka
 * ranges), rows an earlier insert of those ranges stored, and lines it quarantined, are left out too, found by
 * their lineage: that insert's ids may not be recorded yet (a kill between the two), and a token alone cannot
 * say, since one announced token may cover several ranges that are replayed one by one.
 *
 * `read` is `readIds(ch, body)` when the caller looked the ids up already; `storedSince` then holds every id
 * recorded since that lookup began, which count as stored too.
 *
 * The token is `dedupToken` when every row is sent, else `dedupToken/<hash of the ids sent>`: a token names
 * the rows that went under it, so a replay that finds the same state sends the same rows under the same token
 * and ClickHouse drops it if the first one landed, while a replay that must send fewer rows is not mistaken for
 * the first. Rows without a readable id are sent as they are; ClickHouse refuses them into the quarantine.
 * The ids are not recorded here: see `UniqueInsert.ids`.
 */
export async function insertUniqueEvents(
  ch: ClickHouse,
  body: string,
  opts: {
    dedupToken?: string;
    topic?: string;
    ranges?: readonly LineageRange[];
    read?: BodyIds;
    storedSince?: ReadonlySet<string>;
    /** The writer's visitor counters (visitorNumbers.ts); without them each insert reads them again. */
    visitors?: VisitorNumbering;
  } = {},
): Promise<UniqueInsert> {
  const read = opts.read ?? (await readIds(ch, body));
  // Then the rows of erased subjects (DESIGN §5b): read on every insert, so a regulation recorded before this
  // insert began applies to it, whatever was waiting in Kafka or in a client's queue.
  const { kept: lines, erased } = await withoutErased(ch, read.lines);
  const ids = erased === 0 ? read.ids : lines.map(eventIdOf);
  const unique = erased === 0 ? read.unique : new Set(ids.filter((id) => id !== undefined));
  const known = new Set(read.known);
  for (const id of opts.storedSince ?? []) if (unique.has(id)) known.add(id);
  const stored = new Set<string>();
  const parked = new Set<string>();
  for (const range of opts.ranges ?? []) {
    const earlier = await storedInRange(ch, range);
    for (const id of earlier.ids) stored.add(id);
    for (const line of earlier.quarantined) parked.add(line);
  }

  let kept: string[] = [];
  let sentIds: string[] = [];
  const storedIds: string[] = [];
  let duplicates = 0;
  let knownRows = 0;
  let storedBefore = 0;
  let parkedRows = 0;
  if (unique.size === ids.length && known.size === 0 && stored.size === 0 && parked.size === 0) {
    // The common case, a flush of new events only, each once (no id is missing, as none counts in `unique`).
    kept = lines;
    sentIds = ids as string[];
  } else {
    const seen = new Set<string>();
    lines.forEach((line, i) => {
      const id = ids[i];
      if (parked.size > 0 && parked.has(line)) {
        storedBefore += 1;
        parkedRows += 1;
      } else if (id === undefined) {
        kept.push(line);
      } else if (stored.has(id) && !seen.has(id)) {
        seen.add(id);
        storedIds.push(id);
        storedBefore += 1;
      } else if (known.has(id) || seen.has(id)) {
        duplicates += 1;
        if (known.has(id)) knownRows += 1;
      } else {
        seen.add(id);
        kept.push(line);
        sentIds.push(id);
      }
    });
  }

  const everyLine = erased === 0 && kept.length === read.lines.length;
  const dedupToken =
    opts.dedupToken === undefined || everyLine
      ? opts.dedupToken
      : `${opts.dedupToken}/${createHash('sha256')
          .update(`${kept.length}:${sentIds.join(',')}`)
          .digest('hex')
          .slice(0, 24)}`;
  // Each row sent carries its visitor's number (store/sql/040_visitor_numbers.sql), so the lines are written
  // anew even when every one is sent.
  const text = kept.length === 0 ? '' : `${(await numberVisitors(ch, kept, opts.visitors)).join('\n')}\n`;
  const { quarantined, rejected } = text
    ? await insertEvents(ch, text, { dedupToken, topic: opts.topic })
    : { quarantined: 0, rejected: [] };
  const refused = new Set(rejected.map((r) => eventIdOf(r.raw)));
  return {
    quarantined,
    rejected,
    duplicates,
    known: knownRows,
    storedBefore,
    parked: parkedRows,
    erased,
    text,
    sent: kept.length,
    ids: [...(refused.size === 0 ? sentIds : sentIds.filter((id) => !refused.has(id))), ...storedIds],
    ...(dedupToken === undefined ? {} : { dedupToken }),
  };
}
