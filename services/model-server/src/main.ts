// Process entry of a model server: `node dist/services/model-server/src/main.js` (ProcessRuntime, with GSG_MODEL,
// PORT, HOST in the environment), the container image's one-file bundle, and `gsg serve` (which imports
// serve() from here after resolving --model). Exits non-zero with one line on stderr when the configuration
// is bad or the model does not load; exits 0 after draining on SIGTERM/SIGINT.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { errorMessage, GsgError } from '../../../lib/errors.js';
import { ExitCode } from '../../../lib/exit-codes.js';
import type { Logger } from '../../../lib/log.js';
import { loadServerConfig, type ServerConfig } from './config.js';
import { createServerLogger } from './server-logger.js';
import { startServer } from './server.js';
import { drainOnSignals } from './shutdown-signals.js';

export { loadServerConfig } from './config.js';

/**
 * Runs a model server for `config` until SIGTERM/SIGINT: resolves with the exit code once it has drained; rejects
 * with the load error when the model does not load.
 */
export async function serve(config: ServerConfig, logger: Logger = createServerLogger(config.logLevel)): Promise<number> {
  const handle = await startServer(config, { logger });
  const exitCode = drainOnSignals(handle, logger);
  await handle.ready;
  return exitCode;
}

function fail(err: unknown): never {
  process.stderr.write(`model-server: ${errorMessage(err)}\n`);
  process.exit(err instanceof GsgError ? err.exitCode : ExitCode.Error);
}

async function main(): Promise<void> {
  let config;
  try {
    config = loadServerConfig(process.env);
  } catch (err) {
    fail(err);
  }
  const logger = createServerLogger(config.logLevel);
  let code: number;
  try {
    code = await serve(config, logger);
  } catch (err) {
    logger.flush(() => fail(err));
    return;
  }
  logger.flush(() => process.exit(code));
}

const isEntry = (() => {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
})();
if (isEntry) await main();
