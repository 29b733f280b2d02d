// The gateway process: configuration from the environment, listen, close gracefully on SIGINT/SIGTERM.
// With TIDEMARK_GATEWAY_WORKERS above 1 this process is the primary of that many workers (cluster.ts), each of
// which runs the rest of this file as a single gateway does; the primary's SIGTERM closes every worker.
// Errors set the exit code and let the process end on its own once nothing keeps it alive (STYLE: no
// process.exit), so open handles are closed rather than cut.
import cluster from 'node:cluster';
import { startPrimary } from './cluster.js';
import { loadConfig } from './config.js';
import { ConfigError } from './errors.js';
import { createLogger } from './logger.js';
import { startGateway } from './start.js';

try {
  const config = loadConfig();
  if (config.workers > 1 && cluster.isPrimary) {
    const logger = createLogger(config.logLevel);
    const primary = startPrimary(config, logger);
    const shutdown = (signal: string) => {
      logger.info({ signal, workers: primary.workers() }, 'closing the gateway workers');
      void primary.close();
    };
    process.once('SIGINT', () => shutdown('SIGINT'));
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    primary.done.then((clean) => {
      if (!clean) process.exitCode = 1;
    });
  } else {
    const gateway = await startGateway(config);
    let closing = false;
    const shutdown = async (signal: string) => {
      if (closing) return;
      closing = true;
      gateway.app.log.info({ signal }, 'closing');
      try {
        await gateway.close();
      } catch (error) {
        gateway.app.log.error({ err: error }, 'close failed');
        process.exitCode = 1;
      }
      // A worker's channel to its primary would keep it alive.
      cluster.worker?.disconnect();
    };
    process.once('SIGINT', () => void shutdown('SIGINT'));
    process.once('SIGTERM', () => void shutdown('SIGTERM'));
  }
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exitCode = 1;
  cluster.worker?.disconnect();
}
