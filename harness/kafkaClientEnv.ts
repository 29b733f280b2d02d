/**
 * The gateway's Kafka client in the tests that produce to the broker: kafkajs unless the run says otherwise,
 * so `TIDEMARK_KAFKA_CLIENT=platformatic npx vitest run --project integration test/pipeline.test.ts
 * test/gateway-outage.test.ts test/gateway-fuzz.test.ts` proves the same guarantees with @platformatic/kafka.
 */
export const kafkaClientEnv = { TIDEMARK_KAFKA_CLIENT: process.env.TIDEMARK_KAFKA_CLIENT };
