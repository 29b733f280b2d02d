import { Kafka, type LogEntry, logLevel } from 'kafkajs';
import type { CommitOffset } from './batcher.js';
import type { Logger } from './log.js';

/** One fetched run of messages from one partition, values already decoded as UTF-8 text. */
export type ConsumedBatch = {
  topic: string;
  partition: number;
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
  /** Commits the given next-to-read offsets for the group. */
  commit(offsets: CommitOffset[]): Promise<void>;
  /** Called after every (re)join of the group: fetch positions were reset to the committed offsets. */
  onRejoin(listener: () => void): void;
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
  /** Where kafkajs' own warnings and errors go, as the sink's JSON lines. */
  log?: Logger;
}): EventConsumer {
  const { log } = opts;
  // kafkajs logs every join at INFO; the sink reports what matters itself.
  const kafka = new Kafka({
    clientId: opts.clientId,
    brokers: opts.brokers,
    logLevel: logLevel.WARN,
    ...(log ? { logCreator: () => (entry: LogEntry) => forward(log, entry) } : {}),
  });
  const consumer = kafka.consumer({ groupId: opts.groupId });

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
              messages: batch.messages.map((m) => ({
                offset: m.offset,
                value: m.value?.toString('utf8') ?? '',
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
    onRejoin(listener) {
      consumer.on(consumer.events.GROUP_JOIN, () => listener());
    },
    onCrash(listener) {
      consumer.on(consumer.events.CRASH, (event) => listener(event.payload.error, event.payload.restart));
    },
    async disconnect() {
      await consumer.disconnect();
    },
  };
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
