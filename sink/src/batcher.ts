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

/**
 * One INSERT: the messages of one partition from `first` to `last` (inclusive). Flushes are per partition so that
 * whichever member owns the partition next can rebuild exactly the same INSERT from Kafka, under the same
 * token, and ClickHouse stores it once however often it arrives (DESIGN §6.3).
 */
export type Flush = {
  partition: number;
  /** Offset of the first message in the flush. */
  first: string;
  /** Offset of the last message in the flush. */
  last: string;
  /** The message values with lineage fields, ready for `INSERT … FORMAT JSONEachRow`. */
  body: string;
  /** Number of rows (lines) in `body`. */
  rows: number;
  /** Size of `body` in UTF-8 bytes. */
  bytes: number;
  /**
   * `topic:partition:first-last`: the same range always gives the same token. A replayed flush carries the token
   * its first owner announced instead, which may name several partitions (one INSERT took them all).
   */
  dedupToken: string;
  /** `last + 1`, the position to commit once the insert returned. */
  commit: CommitOffset;
  /** True when this flush rebuilds one that an earlier owner announced (see `Batcher.replay`). */
  replay: boolean;
};

export type Batcher = {
  /** Buffers one Kafka message value (JSONEachRow lines); offsets of a partition must arrive in order. */
  add(partition: number, offset: string, value: string): void;
  /**
   * Makes the next messages of `partition`, up to `last`, one flush of their own whatever the limits: the
   * INSERT an earlier owner announced and may or may not have completed, under the deduplication `token` it
   * announced (default: the range's own). Call before adding to `partition`.
   */
  replay(partition: number, last: string, token?: string): void;
  /** Rows buffered now. */
  readonly rows: number;
  /** True when the row or byte limit is reached: flush before taking more. */
  isFull(): boolean;
  /** True when full, when a replayed range is complete, or when the oldest buffered row waited `maxWaitMs`. */
  isDue(): boolean;
  /** Milliseconds until the buffer is due by time; undefined when empty. */
  msUntilDue(): number | undefined;
  /**
   * Hands out what is buffered, one flush per partition, ascending by partition: a replayed range alone, the
   * messages behind it staying for the next take; a replayed range still waiting for its last message stays.
   * Empty when there is nothing to flush.
   */
  take(): Flush[];
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

/** Messages of one partition that will become one flush. */
type Segment = {
  /**
   * The messages' lines, appended with `+` in pieces of about `pieceBytes`: V8 keeps that as a rope of the pieces
   * and copies them into one string once, when the insert first reads it.
   */
  text: string;
  /** The latest messages' lines, joined into one piece of `text` once they reach `pieceBytes`. */
  recent: string[];
  recentBytes: number;
  rows: number;
  bytes: number;
  first?: string;
  last?: string;
  /** For a replayed range: its last offset; the segment is complete once that message arrived. */
  until?: bigint;
  /** For a replayed range: the deduplication token its first owner announced, when not the range's own. */
  token?: string;
  complete: boolean;
};

/**
 * A message's lines (tens of KiB) are young objects that V8's scavenger copies each time they survive one, and a
 * flush keeps them for up to `maxWaitMs`; joined into a piece this large, they are one string in V8's large
 * object space (past 128 KiB), which is never copied, and the small ones die before the next scavenge.
 */
const pieceBytes = 1 << 20;

/** Moves the segment's recent lines into its text as one piece; returns the text. */
function settle(segment: Segment): string {
  if (segment.recent.length > 0) {
    segment.text += segment.recent.join('');
    segment.recent = [];
    segment.recentBytes = 0;
  }
  return segment.text;
}

/**
 * The sink's batching, pure: no Kafka, no ClickHouse, an injectable clock. Accumulates message values from
 * any partitions of one topic until a limit is reached, then hands them out as one INSERT per partition.
 */
export function createBatcher(opts: BatchLimits & { topic: string; now?: () => number }): Batcher {
  const now = opts.now ?? Date.now;
  // Per partition, in arrival order: at most a replayed range followed by an open segment.
  let segments = new Map<number, Segment[]>();
  let rows = 0;
  let bytes = 0;
  let firstAt = 0;

  const isFull = () => rows >= opts.maxRows || bytes >= opts.maxBytes;
  const msUntilDue = () => (segments.size === 0 ? undefined : Math.max(0, firstAt + opts.maxWaitMs - now()));
  const anyComplete = () => [...segments.values()].some((list) => list.some((s) => s.complete));
  const newSegment = (until?: bigint, token?: string): Segment => ({
    text: '',
    recent: [],
    recentBytes: 0,
    rows: 0,
    bytes: 0,
    until,
    token,
    complete: false,
  });

  function clear(): void {
    segments = new Map();
    rows = 0;
    bytes = 0;
  }

  return {
    add(partition, offset, value) {
      if (segments.size === 0) firstAt = now();
      const list = segments.get(partition) ?? [];
      if (list.length === 0) segments.set(partition, list);
      let segment = list.at(-1);
      if (!segment || segment.complete) {
        segment = newSegment();
        list.push(segment);
      }
      const line = addLineage(value, partition, offset, opts.topic);
      const size = Buffer.byteLength(line.text);
      segment.recent.push(line.text);
      segment.recentBytes += size;
      if (segment.recentBytes >= pieceBytes) settle(segment);
      segment.rows += line.rows;
      segment.bytes += size;
      segment.first ??= offset;
      segment.last = offset;
      if (segment.until !== undefined && BigInt(offset) >= segment.until) segment.complete = true;
      rows += line.rows;
      bytes += size;
    },
    replay(partition, last, token) {
      const list = segments.get(partition);
      if (list?.length)
        throw new Error(`replay of partition ${partition} after messages were buffered for it`);
      if (segments.size === 0) firstAt = now();
      segments.set(partition, [newSegment(BigInt(last), token)]);
    },
    get rows() {
      return rows;
    },
    isFull,
    isDue: () => segments.size > 0 && (isFull() || anyComplete() || msUntilDue() === 0),
    msUntilDue,
    take() {
      const flushes: Flush[] = [];
      const kept = new Map<number, Segment[]>();
      for (const partition of [...segments.keys()].sort((a, b) => a - b)) {
        // At most a replayed range and the open segment behind it; only the first may go.
        const [segment, ...behind] = segments.get(partition) ?? [];
        if (!segment) continue;
        if (
          (segment.until !== undefined && !segment.complete) ||
          segment.first === undefined ||
          segment.last === undefined
        ) {
          kept.set(partition, [segment, ...behind]);
          continue;
        }
        flushes.push({
          partition,
          first: segment.first,
          last: segment.last,
          body: settle(segment),
          rows: segment.rows,
          bytes: segment.bytes,
          dedupToken: segment.token ?? `${opts.topic}:${partition}:${segment.first}-${segment.last}`,
          commit: { topic: opts.topic, partition, offset: (BigInt(segment.last) + 1n).toString() },
          replay: segment.until !== undefined,
        });
        rows -= segment.rows;
        bytes -= segment.bytes;
        // One flush per partition and take: the messages read behind a replayed range go in the next one. Taken
        // together, both ranges would be announced in one commit, and Kafka keeps the last offset committed for a
        // partition in one request: the replayed range would be passed over before its rows are stored.
        if (behind.length > 0) kept.set(partition, behind);
      }
      segments = kept;
      // Rows kept behind a replayed range are due as soon as it is stored; a replayed range still waiting for its
      // messages starts the clock again.
      if ([...kept.values()].some(([s]) => s?.until !== undefined)) firstAt = now();
      return flushes;
    },
    clear,
  };
}
