import { type ClickHouse, eventsTable, lineageOf, quarantineTable } from '@tidemark/store';

/** The Kafka messages a flush covers: one partition, `first` … `last` inclusive. */
export type LineageRange = { topic: string; partition: number; first: string; last: string };

/** What `unstoredLines` found missing. */
export type Unstored = {
  /** The lines of the messages that are short of rows, as JSONEachRow text ready to insert again. */
  text: string;
  /** Lines in `text`. */
  rows: number;
  /** Offsets of the messages in `text`, ascending. */
  offsets: string[];
};

/**
 * The messages of `body` (a flush: JSONEachRow lines with their lineage prepended) that have fewer rows in
 * `tidemark.events` and its quarantine together than `body` carries for them, found by their lineage.
 *
 * Why an insert that returned is not proof enough: ClickHouse can hold an insert's deduplication token without
 * its rows. A non-replicated MergeTree appends the block's token to its deduplication log before it renames the
 * new part from `tmp_insert_*` into place; killed between the two (a SIGKILL of the sink with chDB in it, a
 * crash of the server), it starts again with the token logged and the unfinished part deleted, and from then on
 * drops every insert under that token as a duplicate while reporting success. The sink's replay of an announced
 * flush is exactly such an insert.
 */
export async function unstoredLines(ch: ClickHouse, body: string, range: LineageRange): Promise<Unstored> {
  const linesByOffset = new Map<string, string[]>();
  for (const line of body.split('\n')) {
    // A line without lineage is one ClickHouse refuses anyway; it is quarantined at offset 0, not counted here.
    const offset = lineageOf.exec(line)?.[2];
    if (offset === undefined) continue;
    const lines = linesByOffset.get(offset);
    if (lines) lines.push(line);
    else linesByOffset.set(offset, [line]);
  }
  if (linesByOffset.size === 0) return { text: '', rows: 0, offsets: [] };

  const inRange = '_partition = {partition:UInt32} AND _offset BETWEEN {first:UInt64} AND {last:UInt64}';
  const stored = await ch.query<{ offset: string; rows: string }>(
    `SELECT toString(offset) AS offset, sum(rows) AS rows FROM (
       SELECT _offset AS offset, count() AS rows FROM ${eventsTable}
       WHERE _topic = {topic:String} AND ${inRange} GROUP BY offset
       UNION ALL
       SELECT _offset AS offset, count() AS rows FROM ${quarantineTable}
       WHERE topic = {topic:String} AND ${inRange} GROUP BY offset
     ) GROUP BY offset`,
    range,
  );
  const storedRows = new Map(stored.map((s) => [s.offset, Number(s.rows)]));

  const missing: string[] = [];
  const offsets: string[] = [];
  for (const [offset, lines] of linesByOffset) {
    if ((storedRows.get(offset) ?? 0) >= lines.length) continue;
    // The whole message again, even when some of its rows are stored (an insert spanning two months makes a
    // part per month): a row stored twice is collapsed by ReplacingMergeTree, a row missing is lost.
    missing.push(...lines);
    offsets.push(offset);
  }
  return {
    text: missing.length === 0 ? '' : `${missing.join('\n')}\n`,
    rows: missing.length,
    offsets,
  };
}
