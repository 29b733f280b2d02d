// The gateway process: configuration from the environment, listen, close gracefully on SIGINT/SIGTERM.
// Errors set the exit code and let the process end on its own once nothing keeps it alive (STYLE: no
// process.exit), so open handles are closed rather than cut.
import { loadConfig } from './config.js';
import { ConfigError } from './errors.js';
import { startGateway } from './start.js';

try {
  const gateway = await startGateway(loadConfig());
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
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exitCode = 1;
}
