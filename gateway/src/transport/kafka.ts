import type { FastifyBaseLogger } from 'fastify';
import type { KafkaConfig } from '../config.js';
import { createKafkajsTransport } from './kafkajs.js';
import { createPlatformaticTransport } from './platformatic.js';
import type { KafkaTransport } from './types.js';

/**
 * The producer transport of the configured client (`TIDEMARK_KAFKA_CLIENT`). Both keep the same contract:
 * acks=all before `deliver` resolves, a bounded wait then a rejection (the client's 503), the Java client's
 * partitioning by key, and gzip or no compression, which the sink's kafkajs consumer reads.
 */
export function createKafkaTransport(
  config: { kafka: KafkaConfig },
  opts: { logger?: Pick<FastifyBaseLogger, 'error' | 'warn' | 'info' | 'debug'> } = {},
): KafkaTransport {
  return config.kafka.client === 'platformatic'
    ? createPlatformaticTransport(config, opts)
    : createKafkajsTransport(config, opts);
}
