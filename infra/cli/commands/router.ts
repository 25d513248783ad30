// `gsg router` — runs the blue/green router alone (no runtime, no rollout controller): for ad-hoc use and for the
// compose stack. State is restored from --state; --blue/--green (re)point the colors at start-up.
import { join } from 'node:path';
import { z } from 'zod';
import { BadInputError, errorMessage } from '../../../lib/errors.js';
import { createLogger } from '../../../lib/log.js';
import { platformDir } from '../../../lib/paths.js';
import { formatZodError } from '../../../lib/zod-errors.js';
import { VersionString } from '../../../models/artifact.js';
import type { Color } from '../../runtime.js';
import { modelVersionAt } from '../../runtimes/ready.js';
import { DEFAULT_BODY_LIMIT_BYTES, createRouter } from '../../../router/router.js';
import { UpstreamUrl, fileStateStore } from '../../../router/state.js';
import { parseOptions } from '../options.js';

const Options = z.object({
  port: z.coerce.number().int().min(0).max(65535).default(8080),
  host: z.string().min(1).default('0.0.0.0'),
  state: z.string().min(1).optional(),
  blue: UpstreamUrl.optional(),
  blueVersion: VersionString.optional(),
  green: UpstreamUrl.optional(),
  greenVersion: VersionString.optional(),
});

const Env = z.object({
  GSG_ADMIN_TOKEN: z.string().min(1, 'must not be empty (unset it for a loopback-only admin API)').optional(),
  GSG_BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(DEFAULT_BODY_LIMIT_BYTES),
  GSG_GRACE_MS: z.coerce.number().int().nonnegative().default(10_000),
});

export async function run(raw: Record<string, unknown>): Promise<number> {
  const opts = parseOptions(Options, raw);
  const envParsed = Env.safeParse(process.env);
  if (!envParsed.success) throw new BadInputError(`environment: ${formatZodError(envParsed.error)}`);
  const env = envParsed.data;

  const logger = createLogger({ name: 'gsg-router' });
  const statePath = opts.state ?? join(platformDir(), 'router.json');
  const router = await createRouter({
    state: fileStateStore(statePath),
    logger,
    adminToken: env.GSG_ADMIN_TOKEN,
    bodyLimitBytes: env.GSG_BODY_LIMIT_BYTES,
    graceMs: env.GSG_GRACE_MS,
  });

  try {
    for (const color of ['blue', 'green'] as const) {
      const url = opts[color];
      const versionFlag = color === 'blue' ? opts.blueVersion : opts.greenVersion;
      if (url === undefined) {
        if (versionFlag !== undefined) throw new BadInputError(`--${color}-version: needs --${color} <url>`);
        continue;
      }
      const version = versionFlag ?? (await versionOf(url, color));
      await router.setUpstream(color, { url, version }, { actor: 'gsg router', reason: 'command line' });
    }
    // A fresh state weights blue; when only green was given, give green the traffic instead.
    const s = router.getState();
    for (const color of ['blue', 'green'] as const) {
      const other: Color = color === 'blue' ? 'green' : 'blue';
      if (s[color].weight > 0 && s[color].url === null && s[other].url !== null) {
        const weights = other === 'green' ? { blue: 0, green: 100 } : { blue: 100, green: 0 };
        await router.setWeights(weights, { actor: 'gsg router', reason: `only ${other} has an upstream` });
      }
    }
    await router.listen(opts.port, opts.host);
  } catch (err) {
    await router.close();
    throw err;
  }

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ event: 'router.shutdown', signal }, `${signal}: draining`);
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  await router.close();
  logger.flush();
  return 0;
}

/** The version an upstream reports on GET /model/info, for when --<color>-version is not given. */
async function versionOf(url: string, color: Color): Promise<string> {
  try {
    return await modelVersionAt(url);
  } catch (err) {
    throw new BadInputError(`--${color}-version: not given and not readable from ${url} (${errorMessage(err)})`);
  }
}
