// `gsg promote <ref>`: submits a rollout to the platform and follows it live, a line per step; Ctrl-C detaches
// (the rollout continues inside the platform). Exit code: 0 promoted, 6 rolled back, 7 refused, 1 error.
import { z } from 'zod';
import { DurationMs } from '../../../lib/duration.js';
import { BadInputError, errorMessage } from '../../../lib/errors.js';
import { ExitCode } from '../../../lib/exit-codes.js';
import { readLabelledCsv } from '../../../models/training/dataset.js';
import { defaultActor } from '../../../lib/actor.js';
import { Steps, type RolloutSpecInput } from '../../rollout/spec.js';
import type { Rollout, RolloutEvent } from '../../rollout/state.js';
import { parseOptions } from '../options.js';
import { PlatformRequestError, platformClient } from '../platform-client.js';

const Ratio = z.coerce.number().min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1');

const Options = z.object({
  ref: z.string().min(1),
  strategy: z.enum(['canary', 'blue-green']),
  steps: z.string().transform((s) => s.split(',').map((x) => (x.trim() === '' ? NaN : Number(x)))).pipe(Steps),
  interval: DurationMs,
  minRequests: z.coerce.number().int('must be an integer').min(1, 'must be at least 1'),
  maxErrorRate: Ratio,
  maxP99Ms: z.coerce.number().positive('must be a positive number of milliseconds'),
  deadline: DurationMs,
  golden: z.string().optional(),
  maxF1Drop: Ratio,
  scaleDownDelay: DurationMs,
  env: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*=/, 'must be KEY=VALUE')),
  router: z.string().url(),
  runtime: z.enum(['process', 'docker']).optional(),
  reason: z.string().optional(),
  actor: z.string().optional(),
  detach: z.boolean().optional(),
});

export const EXIT_BY_RESULT: Record<string, ExitCode> = {
  promoted: ExitCode.Ok,
  completed: ExitCode.Ok,
  rolled_back: ExitCode.RolledBack,
  refused: ExitCode.Refused,
  aborted: ExitCode.Error,
  failed: ExitCode.Error,
};

const clock = (at: string) => at.slice(11, 19);

export function printEvent(e: RolloutEvent, out: NodeJS.WritableStream = process.stdout): void {
  out.write(`${clock(e.at)}  ${e.message}\n`);
}

export async function run(raw: Record<string, unknown>): Promise<number> {
  const opts = parseOptions(Options, raw);
  let golden: RolloutSpecInput['golden'];
  if (opts.golden) {
    const data = await readLabelledCsv(opts.golden);
    golden = { name: opts.golden, rows: data.texts.map((text, i) => ({ text, label: data.labels[i] === 0 ? ('negative' as const) : ('positive' as const) })) };
    const blank = golden.rows.findIndex((r) => r.text.trim() === '');
    if (blank >= 0) throw new BadInputError(`${opts.golden}: row ${blank + 1}: comment is empty`);
  }
  const spec: RolloutSpecInput = {
    ref: opts.ref,
    strategy: opts.strategy,
    steps: opts.steps,
    interval_ms: opts.interval,
    min_requests: opts.minRequests,
    max_error_rate: opts.maxErrorRate,
    max_p99_ms: opts.maxP99Ms,
    deadline_ms: opts.deadline,
    max_f1_drop: opts.maxF1Drop,
    scale_down_delay_ms: opts.scaleDownDelay,
    env: Object.fromEntries(opts.env.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])),
    actor: opts.actor ?? defaultActor(),
    ...(golden ? { golden } : {}),
    ...(opts.runtime ? { runtime: opts.runtime } : {}),
    ...(opts.reason ? { reason: opts.reason } : {}),
  };
  const client = platformClient(opts.router);
  let rollout: Rollout;
  try {
    rollout = await client.send<Rollout>('POST', '/admin/rollouts', spec);
  } catch (err) {
    if (err instanceof PlatformRequestError && err.body.refused) {
      process.stderr.write(`gsg promote: refused: ${err.message}\n`);
      return ExitCode.Refused;
    }
    throw err;
  }
  process.stdout.write(`rollout ${rollout.id}: ${rollout.model_name}@${rollout.candidate.version} as ${rollout.candidate.color} (was ${rollout.stable.version} on ${rollout.stable.color})\n`);
  if (opts.detach) return ExitCode.Ok;
  return follow(opts.router, rollout.id);
}

/** Prints the rollout's events until it ends; returns the exit code of its result. Ctrl-C detaches. */
export async function follow(router: string, id: string): Promise<number> {
  const client = platformClient(router);
  const onSigint = () => {
    process.stdout.write(`\ndetached: rollout ${id} continues inside the platform (gsg status to check on it)\n`);
    process.exit(ExitCode.Ok);
  };
  process.once('SIGINT', onSigint);
  let after = 0;
  let failures = 0;
  try {
    for (;;) {
      let page: { rollout: Rollout & { running: boolean }; events: RolloutEvent[] };
      try {
        page = await client.get(`/admin/rollouts/${encodeURIComponent(id)}/events?after=${after}&wait_ms=20000`, { timeoutMs: 30_000 });
        failures = 0;
      } catch (err) {
        // The platform may be restarting (it resumes or aborts the rollout): keep following for a while.
        if (++failures > 30) throw err;
        process.stderr.write(`(platform unreachable: ${errorMessage(err)}; retrying)\n`);
        await new Promise((r) => setTimeout(r, 2000));
        continue;
      }
      for (const e of page.events) {
        printEvent(e);
        after = e.seq;
      }
      if (page.rollout.phase === 'done' && !page.rollout.running) {
        const result = page.rollout.result ?? 'failed';
        return EXIT_BY_RESULT[result] ?? ExitCode.Error;
      }
    }
  } finally {
    process.off('SIGINT', onSigint);
  }
}
