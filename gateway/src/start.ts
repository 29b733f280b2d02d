import cluster from 'node:cluster';
import type { ClickHouse } from '@tidemark/store';
import type { FastifyInstance } from 'fastify';
import { build } from './app.js';
import { countWorkerRequests, workerLive, workerMetrics } from './cluster.js';
import type { Config } from './config.js';
import { judgeDurability } from './kafkaDurability.js';
import { createBroadcaster } from './live/broadcaster.js';
import { createLogger } from './logger.js';
import { createGatewayMetrics } from './metrics.js';
import { createRegulator, type Regulator } from './people/regulator.js';
import { openReader, type Reader } from './read/reader.js';
import { libraryQueries, type ReadyQueryLoader } from './read/readyQueries.js';
import { createEmbeddedTransport } from './transport/embedded.js';
import { createKafkaTransport } from './transport/kafka.js';
import type { Transport } from './transport/types.js';

/** A running gateway. */
export interface Gateway {
  app: FastifyInstance;
  /** Where it listens, e.g. `http://127.0.0.1:8787`. */
  url: string;
  /** Embedded mode only: the in-process ClickHouse the events are written to, for reading them back. */
  clickhouse?: ClickHouse;
  /** Stops accepting requests, lets in-flight ones finish, then closes the transport and ClickHouse. */
  close(): Promise<void>;
}

/**
 * Wires the mode to its transport and listens (DESIGN §1). Embedded: chDB or a ClickHouse server through
 * the store's client, migrations (with the same schema options as the sink), and its writer in this process. Distributed: a Kafka producer,
 * after making sure the events and dead-letter topics exist.
 */
export async function startGateway(
  config: Config,
  opts: { loadReadyQueries?: ReadyQueryLoader } = {},
): Promise<Gateway> {
  const logger = createLogger(config.logLevel);
  if (config.demoProject) {
    logger.warn(
      'no write keys configured: accepting "demo-write-key" for project "demo" (set TIDEMARK_WRITE_KEYS)',
    );
  }

  if (config.mode === 'distributed') {
    for (const warning of judgeDurability(config.mode, config.kafka).warnings) logger.warn(warning);
  }

  let transport: Transport;
  let clickhouse: ClickHouse | undefined;
  if (config.mode === 'embedded') {
    // Imported here, not at the top: a distributed gateway never loads the writer or the migrations, and the
    // compiled gateway (build.mjs) keeps them in a chunk that only this line loads.
    const { createClickHouse, createWriter, migrate } = await import('@tidemark/store');
    clickhouse = createClickHouse(config.clickhouse);
    try {
      const { applied } = await migrate(clickhouse, config.schema);
      if (applied.length > 0) logger.info({ applied }, 'migrations applied');
    } catch (error) {
      await clickhouse.close();
      throw error;
    }
    transport = createEmbeddedTransport({ writer: createWriter({ clickhouse }), clickhouse });
  } else {
    const kafka = createKafkaTransport(config, { logger });
    try {
      await kafka.connect();
    } catch (error) {
      await kafka.close().catch(() => {});
      throw error;
    }
    transport = kafka;
  }

  let reader: Reader | undefined;
  let regulator: Regulator | undefined;
  let regulationStore: ClickHouse | undefined;
  let readyQueries: Awaited<ReturnType<ReadyQueryLoader>>;
  const { read } = config;
  try {
    readyQueries = await (opts.loadReadyQueries ?? libraryQueries)();
    if (read.adminToken !== undefined) {
      // config.ts requires a read URL in distributed mode; embedded mode reads its own store by default.
      reader = await openReader(read.clickhouse ?? config.clickhouse, read);
      const { maxExecutionSeconds, maxResultRows, maxRowsToRead } = read;
      logger.info(
        {
          backend: reader.backend,
          maxExecutionSeconds,
          maxResultRows,
          maxRowsToRead,
          readyQueries: readyQueries.length,
        },
        'read API on: POST /v1/sql, GET /v1/queries (admin token required)',
      );
    } else {
      logger.info('read API off: set TIDEMARK_ADMIN_TOKEN to serve POST /v1/sql and GET /v1/queries');
    }
    // Regulations write (deletions, the erased ids): the embedded store, or in distributed mode the server at
    // CLICKHOUSE_URL, which the sinks write to. Without either they are off (404 regulations_disabled).
    if (read.adminToken !== undefined && (clickhouse !== undefined || config.clickhouse.url !== undefined)) {
      if (clickhouse === undefined) {
        const { createClickHouse } = await import('@tidemark/store');
        regulationStore = createClickHouse(config.clickhouse);
      }
      regulator = await createRegulator(clickhouse ?? (regulationStore as ClickHouse), {
        ...config.regulations,
        logger,
      });
    }
  } catch (error) {
    await regulationStore?.close();
    await reader?.close();
    await transport.close();
    await clickhouse?.close();
    throw error;
  }

  const metrics = createGatewayMetrics({ processMetrics: true });
  if (cluster.isWorker) metrics.exposition = workerMetrics(metrics.registry);
  const app = build(config, {
    transport,
    logger,
    metrics,
    // Several workers share one live feed through their primary (cluster.ts).
    ...(cluster.isWorker ? { live: workerLive(createBroadcaster()) } : {}),
    readyQueries,
    ...(reader ? { reader } : {}),
    ...(regulator ? { regulator } : {}),
  });
  if (cluster.isWorker) countWorkerRequests(app, metrics.registry);
  // Fastify runs onClose after the server stopped taking requests and in-flight ones were answered, so
  // nothing is delivered into a closed producer or client.
  app.addHook('onClose', async () => {
    await regulator?.close();
    await reader?.close();
    await regulationStore?.close();
    await transport.close();
    await clickhouse?.close();
  });
  let url: string;
  try {
    url = await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    await app.close();
    throw error;
  }
  logger.info({ mode: config.mode, url }, 'tidemark gateway listening');
  return { app, url, ...(clickhouse ? { clickhouse } : {}), close: () => app.close() };
}
