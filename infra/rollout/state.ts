// The persisted record of a rollout (or rollback) and where it lives: `rollout.json` holds the current/last one so a
// restarted platform can resume or abort it; `history.jsonl` keeps every finished one (who, when, why, result).
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { readJsonFile, writeJsonAtomic } from '../../lib/json-file.js';
import { Color } from '../runtime.js';
import { RolloutSpec } from './spec.js';

export const RolloutPhase = z.enum(['starting', 'golden', 'smoke', 'analysing', 'promoting', 'rolling-back', 'done']);
export type RolloutPhase = z.infer<typeof RolloutPhase>;
/** `completed`: a manual rollback that finished. */
export const RolloutResult = z.enum(['promoted', 'rolled_back', 'refused', 'aborted', 'failed', 'completed']);
export type RolloutResult = z.infer<typeof RolloutResult>;

export const RolloutEvent = z.object({
  seq: z.number().int().nonnegative(),
  at: z.string(),
  type: z.string(),
  message: z.string(),
  data: z.record(z.string(), z.unknown()).optional(),
});
export type RolloutEvent = z.infer<typeof RolloutEvent>;

const Side = z.object({ color: Color, version: z.string(), instance_id: z.string().nullable() });

/** A step's analysis as shown live and kept in history. */
export const StepRecord = z.object({
  weight: z.number(),
  requests: z.number(),
  error_rate: z.number(),
  p99_ms: z.number().nullable(),
  verdict: z.enum(['pass', 'fail', 'inconclusive']),
});
export type StepRecord = z.infer<typeof StepRecord>;

export const Rollout = z.object({
  id: z.string(),
  kind: z.enum(['rollout', 'rollback']),
  /** The request, without the golden rows (only their count is kept). */
  spec: RolloutSpec.omit({ golden: true }).extend({ golden: z.object({ name: z.string(), rows: z.number() }).optional() }),
  model_name: z.string(),
  actor: z.string(),
  reason: z.string().nullable(),
  stable: Side,
  candidate: Side.extend({ url: z.string().nullable(), cold_start_seconds: z.number().nullable() }),
  phase: RolloutPhase,
  step_index: z.number().int(),
  step_started_at: z.string().nullable(),
  steps: z.array(StepRecord),
  started_at: z.string(),
  updated_at: z.string(),
  ended_at: z.string().nullable(),
  result: RolloutResult.nullable(),
  result_reason: z.string().nullable(),
  /** After a promotion: the old color keeps running until `at`, so a rollback before then is instant. */
  scale_down: z.object({ color: Color, version: z.string(), instance_id: z.string().nullable(), at: z.string() }).nullable(),
  events: z.array(RolloutEvent),
});
export type Rollout = z.infer<typeof Rollout>;

export const HistoryEntry = z.object({
  id: z.string(),
  kind: z.enum(['rollout', 'rollback']),
  model_name: z.string(),
  from_version: z.string(),
  to_version: z.string(),
  strategy: z.string().nullable(),
  result: RolloutResult,
  reason: z.string().nullable(),
  result_reason: z.string().nullable(),
  actor: z.string(),
  started_at: z.string(),
  ended_at: z.string(),
  steps: z.array(StepRecord),
});
export type HistoryEntry = z.infer<typeof HistoryEntry>;

export interface RolloutStore {
  readonly dir: string;
  load(): Promise<Rollout | undefined>;
  save(rollout: Rollout): Promise<void>;
  appendHistory(entry: HistoryEntry): Promise<void>;
  history(): Promise<HistoryEntry[]>;
}

export function fileRolloutStore(dir: string): RolloutStore {
  const current = join(dir, 'rollout.json');
  const historyFile = join(dir, 'history.jsonl');
  return {
    dir,
    load: () => readJsonFile(current, Rollout),
    save: (rollout) => writeJsonAtomic(current, rollout),
    async appendHistory(entry) {
      await mkdir(dirname(historyFile), { recursive: true });
      await appendFile(historyFile, JSON.stringify(HistoryEntry.parse(entry)) + '\n', { mode: 0o600 });
    },
    async history() {
      const text = await readFile(historyFile, 'utf8').catch(() => '');
      const out: HistoryEntry[] = [];
      for (const line of text.split('\n')) {
        if (!line.trim()) continue;
        // A torn last line (crash mid-append) is skipped, not fatal.
        const parsed = HistoryEntry.safeParse((() => { try { return JSON.parse(line); } catch { return undefined; } })());
        if (parsed.success) out.push(parsed.data);
      }
      return out;
    },
  };
}
