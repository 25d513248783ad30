// `gsg rollback`: traffic and the production alias back to the previous version — instantly while the old color still
// runs (the scale-down window), else by starting the previous version again. Aborts a rollout in progress.
import { z } from 'zod';
import { ExitCode } from '../../../lib/exit-codes.js';
import { defaultActor } from '../../../lib/actor.js';
import type { Rollout } from '../../rollout/state.js';
import { parseOptions } from '../options.js';
import { platformClient } from '../platform-client.js';
import { printEvent } from './promote.js';

const Options = z.object({ reason: z.string().optional(), actor: z.string().optional(), router: z.string().url() });

export async function run(raw: Record<string, unknown>): Promise<number> {
  const opts = parseOptions(Options, raw);
  const client = platformClient(opts.router);
  const t0 = performance.now();
  const r = await client.send<Rollout>('POST', '/admin/rollback', { actor: opts.actor ?? defaultActor(), ...(opts.reason ? { reason: opts.reason } : {}) }, { timeoutMs: 300_000 });
  for (const e of r.events) printEvent(e);
  process.stdout.write(`${r.kind} ${r.id}: ${r.result ?? r.phase} in ${((performance.now() - t0) / 1000).toFixed(2)} s\n`);
  return r.result === 'completed' || r.result === 'rolled_back' ? ExitCode.Ok : ExitCode.Error;
}
