// `gsg history`: every rollout and rollback the platform ran — when, who, what moved, the result and why.
import { z } from 'zod';
import type { HistoryEntry } from '../../rollout/state.js';
import { parseOptions } from '../options.js';
import { platformClient } from '../platform-client.js';

const Options = z.object({ json: z.boolean().optional(), router: z.string().url() });

export async function run(raw: Record<string, unknown>): Promise<number> {
  const opts = parseOptions(Options, raw);
  const { history } = await platformClient(opts.router).get<{ history: HistoryEntry[] }>('/admin/history');
  if (opts.json) {
    process.stdout.write(JSON.stringify(history, null, 2) + '\n');
    return 0;
  }
  if (history.length === 0) {
    process.stdout.write('no rollouts yet\n');
    return 0;
  }
  const rows = history.map((h) => [h.ended_at.slice(0, 19).replace('T', ' '), h.kind, `${h.from_version} -> ${h.to_version}`, h.result, h.actor, h.reason ?? '', h.result_reason ?? '']);
  const head = ['ended (UTC)', 'kind', 'versions', 'result', 'who', 'reason', 'outcome'];
  const widths = head.map((h, i) => Math.min(60, Math.max(h.length, ...rows.map((r) => r[i]!.length))));
  const fmt = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.slice(0, widths[i]).padEnd(widths[i]!))).join('  ');
  process.stdout.write([fmt(head), ...rows.map(fmt)].join('\n') + '\n');
  return 0;
}
