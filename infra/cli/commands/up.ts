// `gsg up` (what `npm start` runs): the whole platform in one process; Ctrl-C or SIGTERM stops everything it started.
import { z } from 'zod';
import { createLogger } from '../../../lib/log.js';
import { platformConfigFrom, startPlatform } from '../../platform/platform.js';
import { parseOptions } from '../options.js';

const Options = z.object({ port: z.string().optional(), host: z.string().optional(), runtime: z.enum(['process', 'docker']).optional() });

export async function run(raw: Record<string, unknown>): Promise<number> {
  const opts = parseOptions(Options, raw);
  const cfg = platformConfigFrom(opts);
  const logger = createLogger({ name: 'gsg-platform' });
  const platform = await startPlatform(cfg, { logger });
  const state = platform.router.getState();
  const live = state.blue.weight >= state.green.weight ? 'blue' : 'green';
  process.stdout.write(
    [
      '',
      `gym-sentiment-guard is up (${cfg.runtime} runtime, ${live} serves ${state[live].version})`,
      `  predictions   POST ${platform.url}/predict   {"texts": ["..."]}`,
      `  health        ${platform.url}/ready   metrics ${platform.url}/metrics`,
      `  admin API     ${platform.url}/admin/state   (Authorization: Bearer <token>)`,
      `  admin token   ${platform.adminToken}${cfg.adminToken ? ' (from GSG_ADMIN_TOKEN)' : ` (generated; export GSG_ADMIN_TOKEN=${platform.adminToken})`}`,
      `  roll out      npx gsg promote <name@version>   |   npx gsg status   |   npx gsg rollback`,
      '',
    ].join('\n') + '\n',
  );
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ event: 'platform.stopping', signal }, `${signal}: stopping the platform (draining)`);
      platform.close().then(resolve, (err) => {
        logger.error({ event: 'platform.stop_failed', err: String(err) }, 'platform stop failed');
        resolve();
      });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  logger.flush();
  return 0;
}
