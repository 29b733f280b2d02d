import { createClickHouse, migrate } from '@tidemark/store';
import { loadSinkConfig } from './config.js';
import { initialStatus, type Sink, startSink } from './consumer.js';
import { startHealthServer } from './health.js';
import { createKafkaDeadLetters } from './kafka.js';
import { createConsoleLogger, describeError } from './log.js';
import { createSinkMetrics } from './metrics.js';

// The sink process: configuration from the environment, migrations, the consumer, a health endpoint, and a
// graceful close on SIGINT/SIGTERM. Errors set the exit code and release what was opened; no process.exit.
const log = createConsoleLogger();

async function main(): Promise<void> {
  const config = loadSinkConfig(process.env);
  const clickhouse = createClickHouse(config.clickhouse);
  let sink: Sink | undefined;
  let health: Awaited<ReturnType<typeof startHealthServer>> | undefined;

  let closing: Promise<void> | undefined;
  const close = (reason: string) => {
    closing ??= (async () => {
      log.info('closing', { reason });
      await health
        ?.close()
        .catch((err) => log.error('health server close failed', { error: describeError(err) }));
      await sink?.stop().catch((err) => log.error('sink stop failed', { error: describeError(err) }));
      await clickhouse
        .close()
        .catch((err) => log.error('clickhouse close failed', { error: describeError(err) }));
      log.info('closed');
    })();
    return closing;
  };
  process.once('SIGINT', () => void close('SIGINT'));
  process.once('SIGTERM', () => void close('SIGTERM'));

  try {
    const { applied, ttl } = await migrate(clickhouse, config.schema);
    log.info('migrations done', {
      applied,
      ttl,
      backend: clickhouse.backend,
      cluster: config.schema.cluster,
    });
    const metrics = createSinkMetrics({ processMetrics: true });
    const deadLetters = createKafkaDeadLetters({
      brokers: config.kafka.brokers,
      clientId: config.kafka.clientId,
      topic: config.kafka.dlqTopic,
      log,
    });
    sink = await startSink(config, { clickhouse, log, metrics, deadLetters });
    health = await startHealthServer(
      config.health,
      () => sink?.status() ?? initialStatus(false),
      metrics.registry,
    );
    log.info('health endpoint listening', { url: `${health.url}/healthz` });
  } catch (err) {
    await close('startup failed');
    throw err;
  }
}

main().catch((err) => {
  log.error('sink failed', { error: describeError(err), code: (err as { code?: unknown }).code });
  process.exitCode = 1;
});
