import { randomUUID } from 'node:crypto';
import type { ClickHouse } from '@tidemark/store';
import { makeRow } from '@tidemark/store/fixture';
import { type Admin, CompressionTypes, Kafka, logLevel, type Producer } from 'kafkajs';

/** Offsets the group committed on the topic, summed over partitions (a partition with none counts 0). */
export async function committedTotal(admin: Admin, groupId: string, topic: string): Promise<number> {
  const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return (offsets?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
}

/**
 * Commits `offset` with `metadata` on partition 0 of `topic` for `groupId`, as a member of the group would (an
 * earlier owner's announcement of a flush, DESIGN §6.3): it joins, commits, and leaves without committing more.
 */
export async function commitAsMember(
  kafka: Kafka,
  topic: string,
  groupId: string,
  offset: string,
  metadata: string,
): Promise<void> {
  const member = kafka.consumer({ groupId });
  const joined = new Promise<void>((resolve) => member.on(member.events.GROUP_JOIN, () => resolve()));
  await member.connect();
  try {
    await member.subscribe({ topic, fromBeginning: true });
    await member.run({ autoCommit: false, eachBatch: async () => {} });
    await joined;
    await member.commitOffsets([{ topic, partition: 0, offset, metadata }]);
  } finally {
    await member.disconnect();
  }
}

/** Messages in the topic past what the group committed, summed over partitions: 0 once all is stored. */
export async function groupLag(admin: Admin, groupId: string, topic: string): Promise<number> {
  const [ends, [committed]] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId, topics: [topic] }),
  ]);
  let behind = 0;
  for (const end of ends) {
    const done = committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
    behind += Number(end.high) - Math.max(0, Number(done));
  }
  return behind;
}

/**
 * Events `from` … `to - 1` of `project` as the gateway produces them: the rows of one request for one visitor
 * per message (`rowsPerMessage` each), keyed `project:visitor`; every row's properties carry its number `n`.
 */
export function gatewayMessages(
  project: string,
  from: number,
  to: number,
  rowsPerMessage: number,
): { key: string; value: string }[] {
  const messages = [];
  for (let i = from; i < to; i += rowsPerMessage) {
    const visitor = `visitor-${i % 997}`;
    let value = '';
    for (let j = i; j < Math.min(to, i + rowsPerMessage); j++) {
      value += `${JSON.stringify(makeRow({ project_id: project, anonymous_id: visitor, properties: `{"n":${j}}` }))}\n`;
    }
    messages.push({ key: `${project}:${visitor}`, value });
  }
  return messages;
}

/** Produces messages as the gateway does (acks=all, gzip), 100 to a request to stay under the broker's 1 MB. */
export async function produceAsGateway(
  producer: Producer,
  topic: string,
  messages: { key: string; value: string }[],
): Promise<void> {
  for (let i = 0; i < messages.length; i += 100) {
    await producer.send({
      topic,
      acks: -1,
      compression: CompressionTypes.GZIP,
      messages: messages.slice(i, i + 100),
    });
  }
}

/** A message as read back: key and value as text. */
export type ReadMessage = { key: string; value: string };

/**
 * Reads `topic` from its start with a consumer group of its own until `enough(messages so far)` holds or
 * `timeoutMs` passed, and returns what it read (the caller's assertions say what was missing).
 */
export async function readTopic(
  brokers: string[],
  topic: string,
  enough: (messages: ReadMessage[]) => boolean,
  timeoutMs = 30_000,
): Promise<ReadMessage[]> {
  const kafka = new Kafka({ clientId: 'tidemark-test-reader', brokers, logLevel: logLevel.NOTHING });
  const reader = kafka.consumer({ groupId: `reader-${randomUUID()}` });
  const messages: ReadMessage[] = [];
  await reader.connect();
  try {
    await reader.subscribe({ topic, fromBeginning: true });
    await reader.run({
      eachMessage: async ({ message }) => {
        messages.push({ key: message.key?.toString() ?? '', value: message.value?.toString() ?? '' });
      },
    });
    const deadline = Date.now() + timeoutMs;
    while (!enough(messages) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 100));
  } finally {
    await reader.disconnect();
  }
  return messages;
}

/** The `event_id` of every JSONEachRow line in the messages, in order (a row sent twice appears twice). */
export function eventIdsOf(messages: ReadMessage[]): string[] {
  return messages.flatMap((m) =>
    m.value
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => (JSON.parse(line) as { event_id: string }).event_id),
  );
}

/** What `auditStored` found wrong on one partition of the topic. */
export type PartitionAudit = {
  partition: number;
  /** The partition's log end offset. */
  high: number;
  /** Offset ranges (inclusive) below `high` without a single row in the table. */
  missing: [number, number][];
  /** Messages stored with another number of rows than they carry: `[offset, rows]`. */
  miscounted: [number, number][];
};

/**
 * Compares what `tidemark.events` holds, message by message (its `_partition`/`_offset` lineage), with what the
 * topic holds, so a test that lost or doubled rows can say which messages. Assumes every message of the topic
 * carries `rowsPerMessage` rows, as `gatewayMessages` makes them. Only partitions with a finding are returned.
 */
export async function auditStored(
  clickhouse: Pick<ClickHouse, 'query'>,
  admin: Admin,
  topic: string,
  rowsPerMessage: number,
): Promise<PartitionAudit[]> {
  const [ends, stored] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    clickhouse.query<{ partition: number; offset: string; rows: string }>(
      `SELECT _partition AS partition, _offset AS offset, count() AS rows FROM tidemark.events
       WHERE _topic = {topic:String} GROUP BY partition, offset ORDER BY partition, offset`,
      { topic },
    ),
  ]);
  const audits: PartitionAudit[] = [];
  for (const end of [...ends].sort((a, b) => a.partition - b.partition)) {
    const high = Number(end.high);
    const audit: PartitionAudit = { partition: end.partition, high, missing: [], miscounted: [] };
    let next = Number(end.low);
    for (const row of stored.filter((r) => Number(r.partition) === end.partition)) {
      const offset = Number(row.offset);
      if (offset > next) audit.missing.push([next, offset - 1]);
      if (Number(row.rows) !== rowsPerMessage) audit.miscounted.push([offset, Number(row.rows)]);
      next = Math.max(next, offset + 1);
    }
    if (next < high) audit.missing.push([next, high - 1]);
    if (audit.missing.length > 0 || audit.miscounted.length > 0) audits.push(audit);
  }
  return audits;
}
