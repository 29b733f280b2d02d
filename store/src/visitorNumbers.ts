import { createHash } from 'node:crypto';
import { type ClickHouse, quote } from './clickhouse.js';
import { lineageOf } from './insertEvents.js';

/** Who has which number (store/sql/040_visitor_numbers.sql). */
export const visitorNumbersTable = 'tidemark.visitor_numbers';

/** The partition the embedded writer numbers its visitors from: it has no Kafka partition of its own. */
export const embeddedPartition = 2147483647;

type Given = { number: bigint; partition: number; offset: bigint };

/** What a writer remembers between inserts. */
export type VisitorNumbering = {
  /** Per partition: the last number given, and the offset after the last message numbered. */
  readonly counters: Map<number, { last: bigint; next: bigint }>;
  /**
   * Numbers this process read from the mapping or wrote to it, by key, the oldest dropped past `cacheSize`: a
   * number never changes once given, so a visitor seen again in a later flush is not looked up again.
   */
  readonly cache: Map<string, Given>;
  readonly cacheSize: number;
};

/** One per writing process (a sink, the embedded writer); holding none re-reads everything on every insert. */
export function createVisitorNumbering(cacheSize = 100_000): VisitorNumbering {
  return { counters: new Map(), cache: new Map(), cacheSize };
}

function remember(numbering: VisitorNumbering, key: string, given: Given): void {
  numbering.cache.delete(key);
  numbering.cache.set(key, given);
  if (numbering.cache.size > numbering.cacheSize) {
    const oldest = numbering.cache.keys().next().value;
    if (oldest !== undefined) numbering.cache.delete(oldest);
  }
}

// The row's own keys: string values are JSON-escaped, so an unescaped `"name":"` is never inside a value.
const projectField = /"project_id":"((?:[^"\\]|\\.)*)"/;
const anonymousField = /"anonymous_id":"((?:[^"\\]|\\.)*)"/;
const numberSuffix = /,"visitor_number":\d+\}$/;

const decode = (escaped: string) =>
  escaped.includes('\\') ? (JSON.parse(`"${escaped}"`) as string) : escaped;

/**
 * The mapping's key of a visitor: the first 128 bits of the SHA-256 of the project id's length in UTF-8 bytes,
 * ':', the project id and the anonymous id, in lower-case hex (as 040 computes it in SQL). Unambiguous whatever
 * either id holds, and no id in the clear: the mapping outlives an erasure of the visitor's events.
 */
export function visitorKey(projectId: string, anonymousId: string): string {
  return createHash('sha256')
    .update(`${Buffer.byteLength(projectId)}:${projectId}${anonymousId}`)
    .digest('hex')
    .slice(0, 32);
}

/** A line as it was before `numberVisitors` gave it a number. */
export function withoutVisitorNumber(line: string): string {
  return line.replace(numberSuffix, '}');
}

/** Keys per lookup on a server, where they travel in the statement's text. */
const lookupChunk = 2_000;

async function lookup(ch: ClickHouse, keys: string[]): Promise<Map<string, Given>> {
  const found = new Map<string, Given>();
  const select = `SELECT key, toString(number) AS number, partition, toString(offset) AS offset
    FROM ${visitorNumbersTable} WHERE key IN`;
  type Row = { key: string; number: string; partition: number; offset: string };
  const add = (rows: Row[]) => {
    for (const r of rows)
      found.set(r.key, {
        number: BigInt(r.number),
        partition: Number(r.partition),
        offset: BigInt(r.offset),
      });
  };
  if (keys.length === 0) return found;
  if (ch.backend === 'chdb') {
    add(await ch.query<Row>(`${select} {keys:Array(String)}`, { keys }));
    return found;
  }
  for (let i = 0; i < keys.length; i += lookupChunk)
    add(
      await ch.query<Row>(
        `${select} (${keys
          .slice(i, i + lookupChunk)
          .map(quote)
          .join(',')})`,
      ),
    );
  return found;
}

/** The highest number of `partition` given for a message before `before` (every message when undefined). */
async function lastNumber(ch: ClickHouse, partition: number, before: bigint | undefined): Promise<bigint> {
  const rows = await ch.query<{ last: string }>(
    `SELECT toString(max(number)) AS last FROM ${visitorNumbersTable}
     WHERE partition = {partition:UInt32}${before === undefined ? '' : ' AND offset < {before:UInt64}'}`,
    { partition, ...(before === undefined ? {} : { before: before.toString() }) },
  );
  const last = BigInt(rows[0]?.last ?? '0');
  return last === 0n ? BigInt(partition) << 32n : last;
}

/**
 * Gives every line (a JSONEachRow row, with the sink's lineage or without) its visitor's number, appended as
 * `"visitor_number"`, after writing the numbers of new visitors to `tidemark.visitor_numbers` (before the rows,
 * so a row never carries a number the mapping lacks).
 *
 * A visitor is new when the mapping has no number for it, or has one that a message of this same partition at
 * or after the first message here gave: that is an earlier attempt at these messages (killed before its commit),
 * which numbered them exactly as this one does, because the k-th new visitor of partition p after the messages
 * before is (p << 32) + k either way. New visitors are numbered in the order of the lines, which is each
 * partition's log order. Lines without a lineage are the embedded writer's: partition `embeddedPartition`, and a
 * number once given is kept. An empty anonymous id is number 0; a line without a project or anonymous id is left
 * as it is (the column's default).
 */
export async function numberVisitors(
  ch: ClickHouse,
  lines: readonly string[],
  numbering: VisitorNumbering = createVisitorNumbering(),
): Promise<string[]> {
  // One entry per visitor and partition, in the order of its first line (each partition's log order): the
  // decisions are per visitor, and a flush holds several rows of each.
  type Visitor = { key: string; partition: number; offset: string; number?: string };
  const visitors = new Map<string, Visitor>();
  // Per line: its visitor, '0' for no anonymous id, undefined for a line left as it is.
  const perLine: (Visitor | '0' | undefined)[] = new Array(lines.length);
  // Per partition: the first and the last offset, as digits.
  const first = new Map<number, string>();
  const highest = new Map<number, string>();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const project = projectField.exec(line)?.[1];
    const anonymous = anonymousField.exec(line)?.[1];
    if (project === undefined || anonymous === undefined || !line.endsWith('}')) continue;
    // Number 0, the same for every project and never a partition's: events without an anonymous id (server-side
    // calls with a user id only) are one visitor per project, keyed by user id to many partitions.
    if (anonymous === '') {
      perLine[i] = '0';
      continue;
    }
    const lineage = lineageOf.exec(line);
    const partition = lineage ? Number(lineage[1]) : embeddedPartition;
    const offset = lineage?.[2] ?? '0';
    const low = first.get(partition);
    if (low === undefined || digitsLess(offset, low)) first.set(partition, offset);
    const high = highest.get(partition);
    if (high === undefined || digitsLess(high, offset)) highest.set(partition, offset);
    const pair = `${partition}\u0000${project}\u0000${anonymous}`;
    let visitor = visitors.get(pair);
    if (visitor === undefined) {
      visitor = { key: visitorKey(decode(project), decode(anonymous)), partition, offset };
      visitors.set(pair, visitor);
    }
    perLine[i] = visitor;
  }

  // What the mapping says of them: this process's cache first, then one lookup for the rest.
  const known = new Map<string, Given>();
  const unknown = new Set<string>();
  for (const { key } of visitors.values()) {
    const cached = numbering.cache.get(key);
    if (cached === undefined) unknown.add(key);
    else known.set(key, cached);
  }
  for (const [key, given] of await lookup(ch, [...unknown])) {
    known.set(key, given);
    remember(numbering, key, given);
  }

  const firstOffset = (partition: number) => BigInt(first.get(partition) ?? '0');
  // The last number this process gave on `partition`, when these lines continue where it stopped there (the
  // embedded writer is the only writer of its partition, so its counter always holds).
  const carried = (partition: number): bigint | undefined => {
    const cached = numbering.counters.get(partition);
    return cached !== undefined && (partition === embeddedPartition || cached.next === firstOffset(partition))
      ? cached.last
      : undefined;
  };
  const last = new Map<number, bigint>();
  const counterOf = async (partition: number): Promise<bigint> => {
    const value =
      last.get(partition) ??
      carried(partition) ??
      (await lastNumber(ch, partition, partition === embeddedPartition ? undefined : firstOffset(partition)));
    last.set(partition, value);
    return value;
  };

  const fresh: { key: string; given: Given }[] = [];
  const givenHere = new Map<string, string>();
  for (const visitor of visitors.values()) {
    const mapped = known.get(visitor.key);
    const kept =
      mapped !== undefined &&
      (visitor.partition === embeddedPartition ||
        mapped.partition !== visitor.partition ||
        mapped.offset < firstOffset(visitor.partition));
    // A visitor met on two partitions of this flush (the topic grew) is numbered by the first.
    let number = kept ? mapped.number.toString() : givenHere.get(visitor.key);
    if (number === undefined) {
      const given = (await counterOf(visitor.partition)) + 1n;
      last.set(visitor.partition, given);
      fresh.push({
        key: visitor.key,
        given: { number: given, partition: visitor.partition, offset: BigInt(visitor.offset) },
      });
      number = given.toString();
    }
    givenHere.set(visitor.key, number);
    visitor.number = number;
  }

  if (fresh.length > 0) {
    await ch.insertJsonEachRow(
      visitorNumbersTable,
      fresh
        .map(
          ({ key, given: g }) =>
            `{"key":${JSON.stringify(key)},"number":${g.number},"partition":${g.partition},"offset":${g.offset}}\n`,
        )
        .join(''),
    );
    for (const { key, given } of fresh) remember(numbering, key, given);
  }
  // Where each partition stops now, for the next insert that continues it; a partition that numbered no one
  // here keeps its counter only when it was carried to these very messages.
  for (const [partition, high] of highest) {
    const value = last.get(partition) ?? carried(partition);
    if (value === undefined) numbering.counters.delete(partition);
    else numbering.counters.set(partition, { last: value, next: BigInt(high) + 1n });
  }

  return lines.map((line, i) => {
    const visitor = perLine[i];
    if (visitor === undefined) return line;
    return `${line.slice(0, -1)},"visitor_number":${visitor === '0' ? '0' : visitor.number}}`;
  });
}

/** a < b for two non-negative integers written in digits without leading zeros. */
function digitsLess(a: string, b: string): boolean {
  return a.length === b.length ? a < b : a.length < b.length;
}
