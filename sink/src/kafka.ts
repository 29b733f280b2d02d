import { CompressionTypes, Kafka, type LogEntry, logLevel } from 'kafkajs';
import type { CommitOffset } from './batcher.js';
import { useFastGunzip } from './gunzip.js';
import type { Logger } from './log.js';

/** One fetched run of messages from one partition, values as UTF-8 text. */
export type ConsumedBatch = {
  topic: string;
  partition: number;
  /** The partition's log end offset when it was fetched: lag is this minus the committed offset. */
  highWatermark: string;
  messages: { offset: string; value: string }[];
};

/** What a batch handler may do while it holds a batch (kafkajs `eachBatch` semantics). */
export type BatchControl = {
  /** Marks an offset as read so the next fetch starts after it; commits nothing by itself. */
  resolveOffset(offset: string): void;
  /** Tells the group coordinator this member is alive; throws when a rebalance is under way. */
  heartbeat(): Promise<void>;
  /** False once the consumer is stopping. */
  isRunning(): boolean;
  /** True when the partition was seeked elsewhere: what is buffered from it is no longer wanted. */
  isStale(): boolean;
};

/**
 * The consumer the sink needs, and nothing more (DESIGN §4): kafkajs today, a faster client tomorrow.
 * Offsets are committed only through `commit`; nothing is committed automatically.
 */
export type EventConsumer = {
  /** Joins the group, reads the topic from the committed offsets (or the beginning) and calls `onBatch`. */
  run(onBatch: (batch: ConsumedBatch, control: BatchControl) => Promise<void>): Promise<void>;
  /**
   * Commits next-to-read offsets for the group, each with an optional metadata string (null clears it). The
   * coordinator refuses the commit when the group is rebalancing or moved to a newer generation.
   */
  commit(offsets: (CommitOffset & { metadata?: string | null })[]): Promise<void>;
  /** The group's committed offset and metadata per partition of the topic (offset `-1` when none). */
  committed(): Promise<Map<number, { offset: string; metadata: string | null }>>;
  /** Called after every (re)join of the group: fetch positions were reset to the committed offsets. */
  onRejoin(listener: () => void): void;
  /**
   * Called when this member found the group rebalancing, before it sends its own JoinGroup: from then on the
   * coordinator may hand its partitions to another member, so nothing new may be inserted for them.
   */
  onRebalancing(listener: () => void): void;
  /** Called when the consumer crashed; `restarting` tells whether kafkajs will rejoin by itself. */
  onCrash(listener: (error: Error, restarting: boolean) => void): void;
  /** Leaves the group and closes the connections. */
  disconnect(): Promise<void>;
};

/** The kafkajs implementation of EventConsumer. */
export function createKafkaConsumer(opts: {
  brokers: string[];
  clientId: string;
  groupId: string;
  topic: string;
  /** How long the coordinator waits for a silent member before giving its partitions away (30 s). */
  sessionTimeoutMs?: number;
  /** Where kafkajs' own warnings and errors go, as the sink's JSON lines. */
  log?: Logger;
}): EventConsumer {
  const kafka = kafkaClient(opts);
  useFastGunzip();
  const consumer = kafka.consumer({
    groupId: opts.groupId,
    sessionTimeout: opts.sessionTimeoutMs ?? 30_000,
    heartbeatInterval: Math.min(3_000, Math.floor((opts.sessionTimeoutMs ?? 30_000) / 3)),
    // Larger fetches than kafkajs' 1 MB per partition: a flush of 50 000 rows is ~45 MB of JSON.
    maxBytesPerPartition: 8 * 1024 * 1024,
    maxBytes: 64 * 1024 * 1024,
  });

  return {
    async run(onBatch) {
      await consumer.connect();
      // From the beginning: a new group must not skip what the gateway acknowledged before the sink started.
      await consumer.subscribe({ topic: opts.topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
          await onBatch(
            {
              topic: batch.topic,
              partition: batch.partition,
              highWatermark: batch.highWatermark,
              // Each value is decoded when it is read, not the whole fetch at once: the text then dies young,
              // right after the batcher copied it, instead of surviving scavenges while the rest of a fetch of up
              // to 8 MiB is handled (V8 copies every survivor, once or twice).
              messages: batch.messages.map((m) => ({
                offset: m.offset,
                get value() {
                  return m.value?.toString('utf8') ?? '';
                },
              })),
            },
            { resolveOffset, heartbeat, isRunning, isStale },
          );
        },
      });
    },
    async commit(offsets) {
      await consumer.commitOffsets(offsets);
    },
    async committed() {
      const admin = kafka.admin();
      await admin.connect();
      try {
        const [found] = await admin.fetchOffsets({ groupId: opts.groupId, topics: [opts.topic] });
        return new Map(
          (found?.partitions ?? []).map((p) => [p.partition, { offset: p.offset, metadata: p.metadata }]),
        );
      } finally {
        await admin.disconnect();
      }
    },
    onRejoin(listener) {
      consumer.on(consumer.events.GROUP_JOIN, () => listener());
    },
    onRebalancing(listener) {
      consumer.on(consumer.events.REBALANCING, () => listener());
    },
    onCrash(listener) {
      consumer.on(consumer.events.CRASH, (event) => listener(event.payload.error, event.payload.restart));
    },
    async disconnect() {
      await consumer.disconnect();
    },
  };
}

/** One event the sink could not store, as written to the dead-letter topic (DESIGN §4). */
export type DeadLetter = {
  /** Where it failed: always `sink` here (the gateway writes `gateway` records). */
  stage: 'sink';
  /** A stable word: `clickhouse_rejected` when ClickHouse refused the row. */
  reason: string;
  /** ClickHouse's error for this row alone. */
  error: string;
  /** The Kafka message the row came from. */
  topic: string;
  partition: number;
  offset: string;
  /** The row exactly as the gateway produced it (without the sink's lineage fields). */
  raw: string;
  /** When the sink gave up on it, ISO 8601. */
  at: string;
};

/** Where rows that ClickHouse refused are reported, besides the quarantine table. */
export type DeadLetterSink = {
  /** Resolves once Kafka acknowledged every record (acks=all); safe to repeat (records may then repeat). */
  send(records: DeadLetter[]): Promise<void>;
  disconnect(): Promise<void>;
};

/** The kafkajs dead-letter producer: creates the topic when missing, keys records by their source position. */
export function createKafkaDeadLetters(opts: {
  brokers: string[];
  clientId: string;
  topic: string;
  log?: Logger;
}): DeadLetterSink {
  const kafka = kafkaClient(opts);
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  let ready: Promise<void> | undefined;
  const connect = async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      // A no-op when the gateway (or an earlier sink) created it already.
      await admin.createTopics({ topics: [{ topic: opts.topic }], waitForLeaders: true });
    } finally {
      await admin.disconnect();
    }
    await producer.connect();
  };
  return {
    async send(records) {
      if (records.length === 0) return;
      ready ??= connect().catch((err) => {
        ready = undefined;
        throw err;
      });
      await ready;
      await producer.send({
        topic: opts.topic,
        acks: -1,
        compression: CompressionTypes.GZIP,
        messages: records.map((r) => ({
          key: `${r.topic}:${r.partition}:${r.offset}`,
          value: JSON.stringify(r),
        })),
      });
    },
    async disconnect() {
      if (ready) await producer.disconnect();
    },
  };
}

/** A kafkajs client whose own log lines go to the sink's logger; kafkajs logs every join at INFO, so WARN. */
function kafkaClient(opts: { brokers: string[]; clientId: string; log?: Logger }): Kafka {
  const { log } = opts;
  return new Kafka({
    clientId: opts.clientId,
    brokers: opts.brokers,
    logLevel: logLevel.WARN,
    ...(log ? { logCreator: () => (entry: LogEntry) => forward(log, entry) } : {}),
  });
}

/**
 * kafkajs logs at ERROR what it goes on to retry (a fresh broker answers the first group join with "coordinator
 * is loading"); what really fails reaches the sink as a rejected call or a crash event, which the sink logs as
 * errors itself. So kafkajs' own lines are warnings here.
 */
function forward(log: Logger, entry: LogEntry): void {
  const { message, ...fields } = entry.log;
  log.warn(`kafkajs ${entry.namespace}: ${message}`, fields);
}
