import {
  type ClickHouse,
  eventIdOf,
  type LineageRange,
  lineageOf,
  storedInRange,
  withoutVisitorNumber,
} from '@tidemark/store';

export type { LineageRange } from '@tidemark/store';

/** What `unstoredLines` found missing. */
export type Unstored = {
  /** The lines that are neither stored nor quarantined, as JSONEachRow text ready to insert again. */
  text: string;
  /** Lines in `text`. */
  rows: number;
  /** Offsets of the messages those lines came from, ascending, without repeats. */
  offsets: string[];
};

/**
 * The lines of `body` (what one flush meant to store: JSONEachRow lines with their lineage prepended) of the
 * range's partition that are neither in `tidemark.events` (by event id, among the rows whose lineage is in the
 * range) nor in its quarantine (by the line itself).
 *
 * Why an insert that returned is not proof enough: ClickHouse can hold an insert's deduplication token without
 * its rows. A non-replicated MergeTree appends the block's token to its deduplication log before it renames the
 * new part from `tmp_insert_*` into place; killed between the two (a SIGKILL of the sink with chDB in it, a
 * crash of the server), it starts again with the token logged and the unfinished part deleted, and from then on
 * drops every insert under that token as a duplicate while reporting success. The sink's replay of an announced
 * flush can be such an insert when it sends the same rows under the same token; the sink runs this check after
 * every replay and retry, and normally it finds nothing.
 */
export async function unstoredLines(ch: ClickHouse, body: string, range: LineageRange): Promise<Unstored> {
  const lines: { line: string; offset: string }[] = [];
  for (const line of body.split('\n')) {
    // A line without lineage is one ClickHouse refuses anyway; it is quarantined at offset 0, not counted here.
    const lineage = lineageOf.exec(line);
    if (lineage?.[1] === String(range.partition) && lineage[2] !== undefined)
      lines.push({ line, offset: lineage[2] });
  }
  if (lines.length === 0) return { text: '', rows: 0, offsets: [] };

  const stored = await storedInRange(ch, range);
  const missing = lines.filter(({ line }) => {
    // The quarantine keeps lines as the gateway produced them, without the visitor number the insert added.
    if (stored.quarantined.has(withoutVisitorNumber(line))) return false;
    const id = eventIdOf(line);
    return id === undefined || !stored.ids.has(id);
  });
  return {
    text: missing.length === 0 ? '' : `${missing.map((m) => m.line).join('\n')}\n`,
    rows: missing.length,
    offsets: [...new Set(missing.map((m) => m.offset))],
  };
}
