// @tidemark/gateway: the Segment HTTP API in front of Kafka (distributed) or the in-process store (embedded).
export { type BuildDeps, build } from './app.js';
export { hasAdminToken } from './auth.js';
export {
  type ClickHouseSettings,
  type Config,
  type KafkaClient,
  type KafkaConfig,
  type Limits,
  loadConfig,
  type Mode,
  type ReadApiConfig,
} from './config.js';
export { ConfigError, type ErrorCode, GatewayError } from './errors.js';
export type { IngestResult, Rejected } from './ingest.js';
export { type DurabilityVerdict, judgeDurability } from './kafkaDurability.js';
export type { Project } from './projects.js';
export { createReader, openReader, type Reader, type ReadLimits } from './read/reader.js';
export type { ReadyQuery, ReadyQueryLoader, ReadyQueryParam } from './read/readyQueries.js';
export { checkStatement } from './read/statement.js';
export type { BatchBody, EventType, SegmentEvent } from './segment.js';
export { type Gateway, startGateway } from './start.js';
export { createEmbeddedTransport } from './transport/embedded.js';
export { createKafkaTransport } from './transport/kafka.js';
export type { KafkaTransport, Transport, TransportMessage } from './transport/types.js';
export type { RejectReason } from './validate.js';
