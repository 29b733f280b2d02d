/** Limits of one INSERT: whichever is reached first flushes. */
export type BatchLimits = {
  /** Flush once this many rows (JSONEachRow lines) are buffered. */
  maxRows: number;
  /** Flush once the INSERT body reaches this many bytes (UTF-8). */
  maxBytes: number;
  /** Flush rows that have waited this long since the first of them arrived. */
  maxWaitMs: number;
};

/** A Kafka position to commit: the offset of the next message to read, as kafkajs wants it. */
export type CommitOffset = { topic: string; partition: number; offset: string };

/** Offsets of the first and last message of one partition in a flush (inclusive). */
export type OffsetRange = { partition: number; first: string; last: string };

/** Everything one flush needs: the INSERT body, its deduplication token and what to commit after it. */
export type Flush = {
  /** The buffered message values with lineage fields, ready for `INSERT … FORMAT JSONEachRow`. */
  body: string;
  /** Number of rows (lines) in `body`. */
  rows: number;
  /** Size of `body` in UTF-8 bytes. */
  bytes: number;
  /** Offset ranges per partition, ascending by partition. */
  ranges: OffsetRange[];
  /** `topic:partition:first-last,…`: the same ranges always give the same token (DESIGN §6.3). */
  dedupToken: string;
  /** Last offset + 1 per partition, to commit once the insert returned. */
  commits: CommitOffset[];
};

export type Batcher = {
  /** Buffers one Kafka message value (JSONEachRow lines); offsets of a partition must arrive in order. */
  add(partition: number, offset: string, value: string): void;
  /** Rows buffered now. */
  readonly rows: number;
  /** True when the row or byte limit is reached: flush before taking more. */
  isFull(): boolean;
  /** True when full, or when the oldest buffered row has waited `maxWaitMs`. */
  isDue(): boolean;
  /** Milliseconds until the buffer is due by time; undefined when empty. */
  msUntilDue(): number | undefined;
  /** Hands out everything buffered as one flush and starts empty again; undefined when empty. */
  take(): Flush | undefined;
  /** Forgets everything buffered (after a rebalance the messages will be read again from Kafka). */
  clear(): void;
};

/** Rows (JSONEachRow lines) in one Kafka message value; an empty value (a tombstone) has none. */
export function countRows(value: string): number {
  if (value.length === 0) return 0;
  let rows = value.endsWith('\n') ? 0 : 1;
  for (let i = value.indexOf('\n'); i !== -1; i = value.indexOf('\n', i + 1)) rows += 1;
  return rows;
}

/**
 * Counts lines and prepends `"_topic":T,"_partition":P,"_offset":O,` to each (`_topic` only when given), by
 * string operations only. The lineage is what lets a restarted sink see which messages are already stored.
 */
export function addLineage(
  value: string,
  partition: number,
  offset: string,
  topic?: string,
): { text: string; rows: number } {
  // An empty value (a tombstone) carries no rows, but its offset is still tracked and committed.
  if (value.length === 0) return { text: '', rows: 0 };
  const lines = value.endsWith('\n') ? value : `${value}\n`;
  const rows = countRows(lines);
  const topicField = topic === undefined ? '' : `"_topic":${JSON.stringify(topic)},`;
  const prefix = `{${topicField}"_partition":${partition},"_offset":${offset},`;
  // JSON.stringify escapes newlines inside strings, so every raw '\n{' starts a new row. A line that does
  // not start with '{' is left alone for ClickHouse to reject, rather than corrupted further here.
  const rest = lines.replaceAll('\n{', `\n${prefix}`);
  const text = rest.startsWith('{') ? prefix + rest.slice(1) : rest;
  return { text, rows };
}

/**
 * The sink's batching, pure: no Kafka, no ClickHouse, an injectable clock. Accumulates message values from
 * any partitions of one topic until a limit is reached, then hands them out as one INSERT.
 */
export function createBatcher(opts: BatchLimits & { topic: string; now?: () => number }): Batcher {
  const now = opts.now ?? Date.now;
  let parts: string[] = [];
  let rows = 0;
  let bytes = 0;
  let firstAt = 0;
  let ranges = new Map<number, OffsetRange>();

  const isFull = () => rows >= opts.maxRows || bytes >= opts.maxBytes;
  const msUntilDue = () => (parts.length === 0 ? undefined : Math.max(0, firstAt + opts.maxWaitMs - now()));

  function clear(): void {
    parts = [];
    rows = 0;
    bytes = 0;
    ranges = new Map();
  }

  return {
    add(partition, offset, value) {
      if (parts.length === 0) firstAt = now();
      const line = addLineage(value, partition, offset, opts.topic);
      parts.push(line.text);
      rows += line.rows;
      bytes += Buffer.byteLength(line.text);
      const range = ranges.get(partition);
      if (range) range.last = offset;
      else ranges.set(partition, { partition, first: offset, last: offset });
    },
    get rows() {
      return rows;
    },
    isFull,
    isDue: () => parts.length > 0 && (isFull() || msUntilDue() === 0),
    msUntilDue,
    take() {
      if (parts.length === 0) return undefined;
      const sorted = [...ranges.values()].sort((a, b) => a.partition - b.partition);
      const flush: Flush = {
        body: parts.join(''),
        rows,
        bytes,
        ranges: sorted,
        dedupToken: sorted.map((r) => `${opts.topic}:${r.partition}:${r.first}-${r.last}`).join(','),
        commits: sorted.map((r) => ({
          topic: opts.topic,
          partition: r.partition,
          offset: (BigInt(r.last) + 1n).toString(),
        })),
      };
      clear();
      return flush;
    },
    clear,
  };
}
