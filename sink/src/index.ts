// @tidemark/sink: the Kafka consumer group that bulk-inserts events into ClickHouse through @tidemark/store.
export type { Batcher, BatchLimits, CommitOffset, Flush } from './batcher.js';
export { addLineage, createBatcher } from './batcher.js';
export type { SinkConfig } from './config.js';
export { loadSinkConfig } from './config.js';
export type { Sink, SinkDeps, SinkStatus } from './consumer.js';
export { startSink } from './consumer.js';
export type { SinkErrorCode } from './errors.js';
export { SinkError } from './errors.js';
export type { BatchControl, ConsumedBatch, DeadLetter, DeadLetterSink, EventConsumer } from './kafka.js';
export { createKafkaConsumer, createKafkaDeadLetters } from './kafka.js';
export type { Logger } from './log.js';
export type { SinkMetrics } from './metrics.js';
export { createSinkMetrics } from './metrics.js';
