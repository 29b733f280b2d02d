// kafkajs's cost per message against the number of messages in one produce call: the gateway's group commit
// (gateway/src/transport/groupCommit.ts) hands kafkajs everything that arrived during the last produce request
// in one `send`, so the cost of a message must not grow with the size of the call.
//   npx tsx bench/kafkajs-batch.ts [sizes=20,200,2000,20000] [messagesPerSize=40000]
// Each size sends at least `messagesPerSize` messages (and at least 3 calls) of ~100 B, keyed by distinct
// visitors, acks=all, uncompressed so that compression does not hide kafkajs's own work, to a topic of 6
// partitions on a real broker (KAFKA_BROKERS, else one started by scripts/kafka.mjs). CPU is this process's
// user+system time (process.cpuUsage(), all threads) over the calls, divided by the messages.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { startKafka } from '../scripts/kafka.mjs';
import { type Figure, report } from './report.js';

const sizes = (process.argv[2] ?? '20,200,2000,20000').split(',').map(Number);
const perSize = Number(process.argv[3] ?? 40_000);
const scratch = await mkdtemp(join(tmpdir(), 'tidemark-bench-kafkajs-'));
const external = process.env.KAFKA_BROKERS?.split(',').filter(Boolean);
const broker = external?.length ? undefined : await startKafka({ port: 0, dataDir: join(scratch, 'kafka') });
const brokers = external?.length ? external : (broker?.brokers ?? []);
const kafka = new Kafka({ clientId: 'tidemark-bench-kafkajs', brokers, logLevel: logLevel.NOTHING });
const topic = `tidemark.bench.kafkajs.${randomUUID().slice(0, 8)}`;
const producer = kafka.producer({
  allowAutoTopicCreation: false,
  createPartitioner: Partitioners.DefaultPartitioner,
});
const figures: Figure[] = [];
try {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 6 }] });
  await admin.disconnect();
  await producer.connect();
  const messagesOf = (count: number, call: number) =>
    Array.from({ length: count }, (_, i) => ({
      key: `bench:visitor-${call}-${i}`,
      value: `{"event":"Product Viewed","n":${i},"properties":{"product_id":"kayak-${i % 40}","price":${i % 900}}}`,
    }));
  // One untimed call first: kafkajs's connections and the JIT warm up on it.
  await producer.send({ topic, acks: -1, messages: messagesOf(sizes[0] ?? 20, -1) });
  console.log(
    `kafkajs produce calls to ${topic} (6 partitions, acks=all, no compression) at ${brokers.join(',')}`,
  );
  console.log('  | messages per call | calls | CPU per message | CPU per call |\n  |---:|---:|---:|---:|');
  for (const size of sizes) {
    const calls = Math.max(3, Math.ceil(perSize / size));
    const batches = Array.from({ length: calls }, (_, call) => messagesOf(size, call));
    const start = process.cpuUsage();
    for (const messages of batches) await producer.send({ topic, acks: -1, messages });
    const used = process.cpuUsage(start);
    const perMessageUs = (used.user + used.system) / (calls * size);
    console.log(
      `  | ${size} | ${calls} | ${perMessageUs.toFixed(1)} µs | ${((perMessageUs * size) / 1000).toFixed(1)} ms |`,
    );
    figures.push({
      key: `kafkajs.produce.${size}.cpu_us_per_message`,
      label: `kafkajs produce, ${size} messages per call, CPU per message`,
      value: Number(perMessageUs.toFixed(1)),
      unit: 'µs',
      note: `${calls} calls, acks=all, no compression, 6 partitions`,
    });
  }
  report('kafkajs-batch.ts', figures);
} finally {
  await producer.disconnect();
  await broker?.stop();
  await rm(scratch, { recursive: true, force: true });
}
