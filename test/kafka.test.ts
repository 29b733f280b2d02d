import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, expect, inject, it } from 'vitest';

// kafkajs 2.2.4 predates Kafka 4.0's removal of old protocol versions (KIP-896). This proves, against the broker
// the tests run on, every request the gateway and the sink make: topic creation, an idempotent acks=all keyed
// produce, and a consumer group that reads with eachBatch and commits offsets by hand.
const kafka = new Kafka({
  clientId: 'tidemark-compat',
  brokers: inject('kafkaBrokers'),
  logLevel: logLevel.NOTHING,
});
const topic = `tidemark.compat.${randomUUID().slice(0, 8)}`;
const admin = kafka.admin();

afterAll(async () => {
  await admin.disconnect();
});

it('creates a topic, produces keyed messages with acks=all and consumes them in a group that commits', async () => {
  await admin.connect();
  expect(await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true })).toBe(
    true,
  );

  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const messages = Array.from({ length: 30 }, (_, i) => ({
    key: `project:visitor-${i % 5}`,
    value: `{"n":${i}}`,
  }));
  const acks = await producer.send({ topic, acks: -1, messages });
  await producer.disconnect();
  expect(acks.length).toBeGreaterThan(0);
  expect(acks.every((ack) => ack.errorCode === 0)).toBe(true);

  const groupId = `compat-${randomUUID().slice(0, 8)}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen: string[] = [];
  const keysByPartition = new Map<number, Set<string>>();
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary }) => {
        for (const message of batch.messages) {
          seen.push(String(message.value));
          const keys = keysByPartition.get(batch.partition) ?? new Set<string>();
          keys.add(String(message.key));
          keysByPartition.set(batch.partition, keys);
          resolveOffset(message.offset);
        }
        await heartbeat();
        await consumer.commitOffsets([
          { topic, partition: batch.partition, offset: String(Number(batch.lastOffset()) + 1) },
        ]);
        await commitOffsetsIfNecessary();
        if (seen.length === messages.length) resolve();
      },
    });
  });
  await done;
  await consumer.disconnect();

  expect(seen.sort()).toEqual(messages.map((m) => m.value).sort());
  // One key, one partition: a visitor's events stay in order.
  const partitionsPerKey = new Map<string, number>();
  for (const [partition, keys] of keysByPartition)
    for (const key of keys) partitionsPerKey.set(key, partition);
  const keyCount = [...keysByPartition.values()].reduce((sum, keys) => sum + keys.size, 0);
  expect(keyCount).toBe(5);
  expect(partitionsPerKey.size).toBe(5);

  const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
  // A partition no key hashed to has no committed offset (-1).
  const total = committed[0]?.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  expect(total).toBe(messages.length);
});
