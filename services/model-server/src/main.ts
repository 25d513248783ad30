// Process entry of a model server: `node dist/services/model-server/src/main.js` (ProcessRuntime, with GSG_MODEL,
// PORT, HOST in the environment), the container image's one-file bundle, and `gsg serve` (which imports
// startServer from here after resolving --model). Exits non-zero with one line on stderr when the configuration
// is bad or the model does not load; exits 0 after draining on SIGTERM/SIGINT.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { errorMessage, GsgError } from '../../../lib/errors.js';
import { ExitCode } from '../../../lib/exit-codes.js';
import { loadServerConfig } from './config.js';
import { createServerLogger } from './server-logger.js';
import { startServer } from './server.js';
import { drainOnSignals } from './shutdown-signals.js';

export { loadServerConfig, type ServerConfig } from './config.js';
export { startServer, type ServerDeps, type ServerHandle, type ReadyInfo } from './server.js';
export { drainOnSignals } from './shutdown-signals.js';
export { createServerLogger } from './server-logger.js';

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
  const handle = await startServer(config, { logger }).catch(fail);
  const exitCode = drainOnSignals(handle, logger);
  try {
    await handle.ready;
  } catch (err) {
    logger.flush(() => fail(err));
    return;
  }
  const code = await exitCode;
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
