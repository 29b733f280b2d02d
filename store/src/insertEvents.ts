import type { ClickHouse } from './clickhouse.js';
import { StoreError } from './errors.js';
import { withoutVisitorNumber } from './visitorNumbers.js';

/** The table every event goes to. */
export const eventsTable = 'tidemark.events';
/** Where lines ClickHouse refused are parked, with the error. */
export const quarantineTable = 'tidemark.events_quarantine';

/** The lineage `addLineage` prepends to a line: partition and offset of the Kafka message it came from. */
export const lineageOf = /^\{(?:"_topic":"[^"]*",)?"_partition":(\d+),"_offset":(\d+),/;

/** A line ClickHouse refused, as parked in the quarantine table. */
export type RejectedRow = {
  partition: number;
  offset: string;
  /** ClickHouse's error for this line alone. */
  error: string;
  /** The line as the gateway produced it, lineage removed. */
  raw: string;
};

/** One line for the quarantine table: where it came from, why it was refused, and the line itself. */
export type QuarantinedRow = {
  /** The Kafka topic it was read from; `gateway` for what the embedded gateway refused. */
  topic: string;
  /** Kafka partition and offset as digits; 0 when it never passed through Kafka. */
  partition?: string;
  offset?: string;
  error: string;
  row: string;
};

/** Parks lines in `tidemark.events_quarantine`, one row each, with the error cut to 4 000 characters. */
export async function quarantineRows(
  ch: ClickHouse,
  rows: QuarantinedRow[],
  opts: { dedupToken?: string } = {},
): Promise<void> {
  if (rows.length === 0) return;
  // Built by hand so the offset (UInt64) is copied as digits, never through a JavaScript number.
  const body = rows
    .map(
      (r) =>
        `{"topic":${JSON.stringify(r.topic)},"_partition":${r.partition ?? '0'},"_offset":${r.offset ?? '0'},` +
        `"error":${JSON.stringify(r.error.slice(0, 4000))},"row":${JSON.stringify(r.row)}}\n`,
    )
    .join('');
  await ch.insertJsonEachRow(quarantineTable, body, opts);
}

function isRejected(err: unknown): err is StoreError {
  return err instanceof StoreError && err.code === 'insert_rejected';
}

/**
 * Inserts JSONEachRow text into `tidemark.events`; when ClickHouse refuses some rows (a parse or type error,
 * which no retry can fix), bisects the body to find them and parks each refused line in
 * `tidemark.events_quarantine`, so one bad row neither blocks its Kafka partition nor takes good rows down
 * with it. Every sub-insert gets a token derived from `dedupToken` and its position in the bisection, so a
 * retry after a transient failure halfway through re-inserts nothing. Transient errors are thrown to the
 * caller, which retries the whole call.
 */
export async function insertEvents(
  ch: ClickHouse,
  body: string,
  opts: { dedupToken?: string; topic?: string } = {},
): Promise<{ quarantined: number; rejected: RejectedRow[] }> {
  const tokenFor = (path: string) =>
    opts.dedupToken === undefined ? undefined : path ? `${opts.dedupToken}/${path}` : opts.dedupToken;

  const rejected: RejectedRow[] = [];

  async function quarantine(numbered: string, err: StoreError, path: string): Promise<void> {
    // Parked as the gateway produced it: a replay compares it with its own lines, and numbers them anew.
    const line = withoutVisitorNumber(numbered);
    const lineage = lineageOf.exec(line);
    const [, partition = '0', offset = '0'] = lineage ?? [];
    const detail = err.cause instanceof Error ? err.cause.message : err.message;
    await quarantineRows(ch, [{ topic: opts.topic ?? '', partition, offset, error: detail, row: line }], {
      dedupToken: tokenFor(`${path}q`),
    });
    rejected.push({
      partition: Number(partition),
      offset,
      error: detail.slice(0, 4000),
      raw: lineage ? `{${line.slice(lineage[0].length)}` : line,
    });
  }

  async function attempt(text: string, path: string): Promise<number> {
    try {
      await ch.insertJsonEachRow(eventsTable, text, { dedupToken: tokenFor(path) });
      return 0;
    } catch (err) {
      if (!isRejected(err)) throw err;
      const lines = text.split('\n').filter((l) => l.length > 0);
      if (lines.length <= 1) {
        await quarantine(lines[0] ?? text, err, path);
        return 1;
      }
      const mid = Math.ceil(lines.length / 2);
      const left = await attempt(`${lines.slice(0, mid).join('\n')}\n`, `${path}a`);
      const right = await attempt(`${lines.slice(mid).join('\n')}\n`, `${path}b`);
      return left + right;
    }
  }

  const quarantined = await attempt(body, '');
  return { quarantined, rejected };
}
