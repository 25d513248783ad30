// `gsg status`: both colors (version, weight, readiness), the production version and the rollout in progress.
import { z } from 'zod';
import type { RouterStateView } from '../../../router/state.js';
import type { Rollout } from '../../rollout/state.js';
import { parseOptions } from '../options.js';
import { PlatformRequestError, platformClient } from '../platform-client.js';

const Options = z.object({ json: z.boolean().optional(), router: z.string().url() });

export async function run(raw: Record<string, unknown>): Promise<number> {
  const opts = parseOptions(Options, raw);
  const client = platformClient(opts.router);
  const state = await client.get<RouterStateView>('/admin/state');
  let rollout: (Rollout & { running: boolean }) | undefined;
  try {
    rollout = await client.get('/admin/rollouts/current');
  } catch (err) {
    if (!(err instanceof PlatformRequestError && err.status === 404)) throw err;
  }
  if (opts.json) {
    const { events: _events, ...summary } = rollout ?? ({} as Partial<Rollout>);
    process.stdout.write(JSON.stringify({ router: state, rollout: rollout ? { ...summary, last_event: rollout.events.at(-1) ?? null } : null }, null, 2) + '\n');
    return 0;
  }
  const lines = [`platform ${client.url} (generation ${state.generation})`];
  for (const color of ['blue', 'green'] as const) {
    const c = state[color];
    lines.push(`  ${color.padEnd(5)}  weight ${String(c.weight).padStart(3)}%  ${c.ready ? 'ready    ' : 'not ready'}  ${c.version ?? '-'}  ${c.url ?? '(no upstream)'}`);
  }
  if (rollout) {
    const last = rollout.events.at(-1);
    const what = rollout.running ? `in progress (${rollout.phase}, step ${rollout.step_index + 1})` : `${rollout.result}${rollout.result_reason ? `: ${rollout.result_reason}` : ''}`;
    lines.push(`${rollout.kind} ${rollout.id} ${rollout.stable.version} -> ${rollout.candidate.version} by ${rollout.actor}: ${what}`);
    if (last && rollout.running) lines.push(`  last: ${last.message}`);
    if (rollout.scale_down) lines.push(`  ${rollout.scale_down.color} (${rollout.scale_down.version}) kept running until ${rollout.scale_down.at}: gsg rollback is instant until then`);
  } else {
    lines.push('no rollout yet');
  }
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
