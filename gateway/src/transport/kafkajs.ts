import type { FastifyBaseLogger } from 'fastify';
import kafkajs, {
  type Admin,
  CompressionTypes,
  Kafka,
  type LogEntry,
  logLevel,
  Partitioners,
  type Producer,
} from 'kafkajs';
import type { KafkaConfig } from '../config.js';
import { createGroupCommit } from './groupCommit.js';
import { useFastGzip } from './gzip.js';
import { retryWhole } from './retryWhole.js';
import { topicConfig } from './topicConfig.js';
import type { GatewayDeadLetter, KafkaTransport } from './types.js';

type Log = Pick<FastifyBaseLogger, 'error' | 'warn' | 'info' | 'debug'>;

/**
 * Bounded retries: a request waits at most a few seconds for Kafka and then gets a 503 that the SDK
 * retries, rather than hanging a browser's keepalive request while kafkajs retries for minutes.
 */
const RETRY = { retries: 3, initialRetryTime: 200, maxRetryTime: 2000 };

/**
 * Producer behind our Transport interface (DESIGN §4: kafkajs stays replaceable).
 *
 * acks = -1 (all in-sync replicas) is what makes the 200 safe to send. One request in flight keeps a
 * visitor's events in order across retries. The producer is deliberately not kafkajs' `idempotent` one:
 * kafkajs only supports it with unbounded retries, and with bounded ones it rolls a failed batch's
 * sequence numbers back even when the broker did write it (kafkajs src/producer/sendMessages.js), so a later
 * batch can reuse them and be acknowledged as a duplicate without being stored. A plain resend is safe
 * instead: the row keeps its event_id and ClickHouse deduplicates it (DESIGN §6.4).
 */
export function createKafkajsTransport(
  config: { kafka: KafkaConfig },
  opts: { logger?: Log } = {},
): KafkaTransport {
  const { kafka: settings } = config;
  const kafka = new Kafka({
    clientId: settings.clientId,
    brokers: settings.brokers,
    connectionTimeout: 3000,
    requestTimeout: 10_000,
    retry: RETRY,
    logLevel: logLevel.WARN,
    logCreator: () => (entry) => forward(opts.logger, entry),
  });
  const producer: Producer = kafka.producer({
    allowAutoTopicCreation: false,
    maxInFlightRequests: 1,
    idempotent: false,
    // One attempt per send: retryWhole below retries, each time with every message (see why there).
    retry: { retries: 0 },
    // kafkajs refreshes its metadata after a connection or leadership error, not after a request that timed out,
    // which is all a frozen (SIGSTOPped, swapping, partitioned) leader answers: with the default 5 minutes the
    // gateway kept sending to it, and answering 503, long after the cluster had elected another leader
    // (chaos/scenarios/cluster-faults.ts, clusterLeaderFreeze). Metadata older than this is fetched again before
    // the next send; one small request per interval to a broker.
    metadataMaxAge: 5_000,
    // The Java client's murmur2 partitioner: the same key lands on the same partition from any client.
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  const compression = settings.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
  if (compression === CompressionTypes.GZIP) useFastGzip();
  let admin: Admin | undefined;

  // With retries 0, kafkajs wraps an error it would have retried in KafkaJSNumberOfRetriesExceeded, after
  // refreshing its metadata; anything else (a message too large, say) fails at once.
  // (From the default export: kafkajs spreads its error classes into module.exports, which Node's ESM import of
  // a CommonJS module cannot see as named exports.)
  const retriable = (error: unknown) => error instanceof kafkajs.KafkaJSNumberOfRetriesExceeded;
  const send = (topic: string, messages: { key: string; value: string }[]) =>
    retryWhole(() => producer.send({ topic, acks: -1, compression, messages }), retriable, RETRY);
  const events = createGroupCommit((messages) => send(settings.topic, messages));

  return {
    async connect() {
      const admin = kafka.admin({ retry: RETRY });
      await admin.connect();
      try {
        await admin.createTopics({
          waitForLeaders: true,
          topics: [settings.topic, settings.dlqTopic].map((topic) => ({
            topic,
            numPartitions: settings.partitions,
            replicationFactor: settings.replication,
            configEntries: topicConfig(settings),
          })),
        });
      } finally {
        await admin.disconnect();
      }
      await producer.connect();
    },

    deliver: events.deliver,

    async deadLetter(records: GatewayDeadLetter[]) {
      if (records.length === 0) return;
      await send(
        settings.dlqTopic,
        records.map((r) => ({
          key: `${r.projectId}:${r.messageId ?? `#${r.index}`}`,
          value: JSON.stringify(r),
        })),
      );
    },

    // One metadata request through a kept admin connection, bounded by the client's request timeout.
    async ready() {
      admin ??= kafka.admin({ retry: { retries: 0 } });
      try {
        await admin.connect();
        await admin.fetchTopicMetadata({ topics: [settings.topic] });
      } catch (error) {
        const stale = admin;
        admin = undefined;
        await stale?.disconnect().catch(() => {});
        throw error;
      }
    },

    async close() {
      await events.drain();
      await admin?.disconnect().catch(() => {});
      await producer.disconnect();
    },
  };
}

function forward(logger: Log | undefined, entry: LogEntry): void {
  if (!logger) return;
  const { message, ...extra } = entry.log;
  const fields = { kafka: entry.namespace, ...extra };
  if (entry.level === logLevel.ERROR) logger.error(fields, message);
  else if (entry.level === logLevel.WARN) logger.warn(fields, message);
  else if (entry.level === logLevel.INFO) logger.info(fields, message);
  else logger.debug(fields, message);
}
