import { constants, gzipSync } from 'node:zlib';
import {
  Admin,
  type BaseOptions,
  compatibilityPartitioner,
  compressionsAlgorithms,
  ProduceAcks,
  Producer,
  stringSerializers,
} from '@platformatic/kafka';
import type { FastifyBaseLogger } from 'fastify';
import type { KafkaConfig } from '../config.js';
import { createGroupCommit } from './groupCommit.js';
import { topicConfig } from './topicConfig.js';
import type { GatewayDeadLetter, KafkaTransport } from './types.js';

type Log = Pick<FastifyBaseLogger, 'error' | 'warn' | 'info' | 'debug'>;

/** How long `connect()` waits for a new topic's partitions to get leaders before it gives up. */
const LEADERS_TIMEOUT_MS = 30_000;

/**
 * The same bounded wait as the kafkajs transport (3 retries, 200 ms doubling to at most 2 s, 3 s to connect,
 * 10 s per request): a request waits a few seconds for Kafka and then gets a 503 that the SDK retries. The
 * client's own defaults would hold a request up to 30 s per attempt.
 */
const CONNECTION = {
  connectTimeout: 3000,
  requestTimeout: 10_000,
  retries: 3,
  retryDelay: (_client: unknown, _operation: string, attempt: number) =>
    Math.min(200 * 2 ** (attempt - 1), 2000),
} satisfies Partial<BaseOptions>;

/**
 * Producer behind our Transport interface with @platformatic/kafka, a pure-JavaScript client
 * (TIDEMARK_KAFKA_CLIENT=platformatic), held to what the kafkajs transport promises:
 *
 * - acks = -1 on every `send`: the client's `send` defaults acks to 1 (leader only) whatever the constructor
 *   says (`options.acks ??= …LEADER` in its producer.js), so it is passed per call, never left to a default.
 * - Not the client's idempotent producer, for the reason given in kafkajs.ts: its sequence numbers advance
 *   only on success, so after a produce that the broker wrote but whose answer was lost, the next batch reuses
 *   them and is acknowledged as a duplicate without being stored. A plain resend is safe instead (DESIGN §6.4).
 * - `compatibilityPartitioner`: the Java client's `(murmur2(key) & 0x7fffffff) % partitions`, which is what
 *   kafkajs' DefaultPartitioner computes, so a visitor's key lands on the same partition whichever client (or
 *   gateway mid-rollout) produced it. The client's default partitioner takes `murmur2(key) >>> 0` instead, which
 *   differs for every key whose hash is negative unless the partition count is a power of two.
 * - gzip or nothing: the sink's kafkajs consumer reads both; lz4, snappy (WebAssembly) and zstd are built into
 *   this client, but kafkajs decodes none of them without a plug-in codec.
 */
export function createPlatformaticTransport(
  config: { kafka: KafkaConfig },
  _opts: { logger?: Log } = {},
): KafkaTransport {
  const { kafka: settings } = config;
  const base = { clientId: settings.clientId, bootstrapBrokers: settings.brokers, ...CONNECTION };
  const producer = new Producer({
    ...base,
    // One request per connection at a time, as with kafkajs: the group commit already sends one at a time,
    // and a retried request can then never be overtaken by a later one.
    maxInflights: 1,
    idempotent: false,
    autocreateTopics: false,
    partitioner: compatibilityPartitioner,
    serializers: stringSerializers,
  });
  const compression = settings.compression;
  if (compression === 'gzip') useFastGzip();
  let admin: Admin | undefined;

  const events = createGroupCommit((messages) =>
    producer.send({
      acks: ProduceAcks.ALL,
      compression,
      messages: messages.map(({ key, value }) => ({ topic: settings.topic, key, value })),
    }),
  );

  return {
    async connect() {
      const setup = new Admin(base);
      try {
        const topics = [settings.topic, settings.dlqTopic];
        const existing = new Set(await setup.listTopics());
        const missing = topics.filter((topic) => !existing.has(topic));
        if (missing.length > 0) {
          try {
            await setup.createTopics({
              topics: missing,
              partitions: settings.partitions,
              replicas: settings.replication,
              configs: topicConfig(settings),
            });
          } catch (error) {
            // Another gateway may have created them meanwhile (TOPIC_ALREADY_EXISTS); only a topic that still
            // does not exist is a failure.
            const now = new Set(await setup.listTopics());
            if (missing.some((topic) => !now.has(topic))) throw error;
          }
        }
        await waitForLeaders(setup, topics);
      } finally {
        await setup.close().catch(() => {});
      }
      // The producer connects on first use; asking for metadata now fails the start when the brokers cannot
      // be reached, as kafkajs' connect() does, and warms the connection and metadata the first send needs.
      await producer.metadata({ topics: [settings.topic, settings.dlqTopic], forceUpdate: true });
    },

    deliver: events.deliver,

    async deadLetter(records: GatewayDeadLetter[]) {
      if (records.length === 0) return;
      await producer.send({
        acks: ProduceAcks.ALL,
        compression,
        messages: records.map((r) => ({
          topic: settings.dlqTopic,
          key: `${r.projectId}:${r.messageId ?? `#${r.index}`}`,
          value: JSON.stringify(r),
        })),
      });
    },

    // One metadata request that bypasses the client's metadata cache, through a kept admin connection; no
    // retries, so /readyz reports what the broker answers now.
    async ready() {
      admin ??= new Admin({ ...base, retries: 0 });
      try {
        await admin.metadata({ topics: [settings.topic], forceUpdate: true });
      } catch (error) {
        const stale = admin;
        admin = undefined;
        await stale?.close().catch(() => {});
        throw error;
      }
    },

    async close() {
      await events.drain();
      await admin?.close().catch(() => {});
      await producer.close();
    },
  };
}

/**
 * kafkajs' `createTopics({ waitForLeaders: true })` has no counterpart here: a produce right after creation can
 * meet LEADER_NOT_AVAILABLE. Polls fresh metadata until every partition of every topic has a leader.
 */
async function waitForLeaders(admin: Admin, topics: string[]): Promise<void> {
  const deadline = Date.now() + LEADERS_TIMEOUT_MS;
  for (;;) {
    try {
      const metadata = await admin.metadata({ topics, forceUpdate: true });
      const led = topics.every((name) => {
        const topic = metadata.topics.get(name);
        return (
          topic !== undefined && topic.partitionsCount > 0 && topic.partitions.every((p) => p.leader >= 0)
        );
      });
      if (led) return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline)
      throw new Error(`topics ${topics.join(', ')} have no leaders after ${LEADERS_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * gzip at zlib's fastest level, as the kafkajs transport does (see gzip.ts for the measurement): the bytes
 * are ordinary gzip either way. This client compresses synchronously on the main thread at zlib's default
 * level 6 (its protocol/compression.js), and its codecs are one exported process-wide table with no hook to
 * register another, so the gzip entry's compressor is replaced there; decompression is left as it is.
 */
let fastGzip = false;
function useFastGzip(): void {
  if (fastGzip) return;
  fastGzip = true;
  const gzip = compressionsAlgorithms.gzip as { compressSync: (data: Buffer | { buffer: Buffer }) => Buffer };
  gzip.compressSync = (data) =>
    gzipSync(Buffer.isBuffer(data) ? data : data.buffer, { level: constants.Z_BEST_SPEED });
}
