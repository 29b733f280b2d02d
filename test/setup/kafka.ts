import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startKafka } from '../../scripts/kafka.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `host:port` of the broker the integration tests share. */
    kafkaBrokers: string[];
  }
}

/**
 * One real broker for the integration run: the one `KAFKA_BROKERS` names (e.g. `docker compose up kafka`), or
 * a fresh single-node KRaft broker started from the Maven jars on a free port and stopped at the end.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const external = process.env.KAFKA_BROKERS?.trim();
  if (external) {
    project.provide(
      'kafkaBrokers',
      external.split(',').map((broker) => broker.trim()),
    );
    return undefined;
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'tidemark-kafka-'));
  const kafka = await startKafka({ port: 0, dataDir });
  project.provide('kafkaBrokers', kafka.brokers);
  return async () => {
    await kafka.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
}
