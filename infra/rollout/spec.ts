// RolloutSpec: what `gsg promote` asks the platform for (the body of POST /admin/rollouts), validated by one zod
// schema shared by the CLI (which builds it from flags) and the platform (which receives it over HTTP).
import { z } from 'zod';

export const GoldenRow = z.object({ text: z.string().min(1), label: z.enum(['negative', 'positive']) });
export type GoldenRow = z.infer<typeof GoldenRow>;

export const Steps = z
  .array(z.number().int('must be integers').min(1, 'must be 1-100').max(100, 'must be 1-100'))
  .min(1, 'needs at least one step')
  .refine((s) => s.every((v, i) => i === 0 || v > s[i - 1]!), 'must increase')
  .refine((s) => s.at(-1) === 100, 'must end at 100');

const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name');

export const RolloutSpec = z.strictObject({
  ref: z.string().min(1, 'is required'),
  strategy: z.enum(['canary', 'blue-green']).default('canary'),
  steps: Steps.default([10, 25, 50, 100]),
  interval_ms: z.number().int().min(100, 'must be at least 100 ms').default(30_000),
  min_requests: z.number().int().min(1, 'must be at least 1').default(100),
  max_error_rate: z.number().min(0).max(1).default(0.01),
  max_p99_ms: z.number().positive().default(50),
  deadline_ms: z.number().int().positive().default(600_000),
  golden: z.object({ name: z.string(), rows: z.array(GoldenRow).min(1).max(20_000) }).optional(),
  max_f1_drop: z.number().min(0).max(1).default(0.02),
  scale_down_delay_ms: z.number().int().nonnegative().default(600_000),
  env: z.record(EnvName, z.string()).default({}),
  runtime: z.enum(['process', 'docker']).optional(),
  actor: z.string().min(1).max(200).optional(),
  reason: z.string().max(2000).optional(),
});
export type RolloutSpec = z.infer<typeof RolloutSpec>;
export type RolloutSpecInput = z.input<typeof RolloutSpec>;

/** The candidate weights a rollout goes through: its canary steps, or one switch to 100 for blue-green. */
export function stepsOf(spec: Pick<RolloutSpec, 'strategy' | 'steps'>): number[] {
  return spec.strategy === 'canary' ? spec.steps : [100];
}

export const RollbackRequest = z.strictObject({ reason: z.string().max(2000).optional(), actor: z.string().min(1).max(200).optional() });
export type RollbackRequest = z.infer<typeof RollbackRequest>;
