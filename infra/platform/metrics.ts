// The platform's own metrics, served on the router's /metrics next to the router's: image size per version (from the
// build records), cold start per start, rollout progress and results, the production version and alias moves.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../../lib/log.js';
import { readBuildRecords } from '../images/build-record.js';
import type { Rollout } from '../rollout/state.js';
import type { RolloutObserver } from '../rollout/controller.js';
import { stepsOf } from '../rollout/spec.js';
import type { RuntimeKind } from '../runtime.js';

export interface PlatformMetrics extends RolloutObserver {
  setProduction(name: string, version: string): void;
}

export function registerPlatformMetrics(registry: Registry, opts: { home: string; logger: Logger }): PlatformMetrics {
  new Gauge({
    name: 'gsg_image_size_bytes',
    help: 'Size of the model-server image built for a version (from gsg build records)',
    labelNames: ['model_version'],
    registers: [registry],
    async collect() {
      this.reset();
      const records = await readBuildRecords(opts.home, (file, reason) => opts.logger.warn({ event: 'platform.build_record_invalid', file, reason }, 'skipping an invalid build record'));
      for (const r of records) this.set({ model_version: r.version }, r.sizeBytes);
    },
  });
  const coldStart = new Gauge({
    name: 'gsg_cold_start_seconds',
    help: 'Create-to-ready time of the last start of a version, by runtime',
    labelNames: ['model_version', 'runtime'],
    registers: [registry],
  });
  const step = new Gauge({ name: 'gsg_rollout_step', help: '1-based index of the running rollout step, 0 when no rollout runs', registers: [registry] });
  const deadline = new Gauge({
    name: 'gsg_rollout_deadline_timestamp_seconds',
    help: 'Unix time by which the current rollout step must be decided (step start + deadline), 0 when none runs',
    registers: [registry],
  });
  const candidateWeight = new Gauge({ name: 'gsg_rollout_candidate_weight', help: 'Traffic weight of the candidate in percent, 0 when no rollout runs', registers: [registry] });
  const total = new Counter({ name: 'gsg_rollout_total', help: 'Finished rollouts and rollbacks by result', labelNames: ['result'], registers: [registry] });
  for (const result of ['promoted', 'rolled_back', 'refused', 'aborted', 'failed', 'completed']) total.inc({ result }, 0);
  const production = new Gauge({ name: 'gsg_production_info', help: 'The version the production alias points at (value 1)', labelNames: ['model_name', 'model_version'], registers: [registry] });
  const aliasMoves = new Counter({ name: 'gsg_alias_moves_total', help: 'Alias moves made by the platform', labelNames: ['alias'], registers: [registry] });
  aliasMoves.inc({ alias: 'production' }, 0);
  step.set(0);
  deadline.set(0);
  candidateWeight.set(0);

  return {
    coldStart(version: string, runtime: RuntimeKind, seconds: number) {
      coldStart.set({ model_version: version, runtime }, seconds);
    },
    step(r: Rollout) {
      const active = r.phase === 'analysing' && r.step_started_at !== null;
      step.set(active ? r.step_index + 1 : 0);
      deadline.set(active ? Date.parse(r.step_started_at!) / 1000 + r.spec.deadline_ms / 1000 : 0);
      candidateWeight.set(active ? (stepsOf(r.spec)[r.step_index] ?? 0) : 0);
    },
    finished(r: Rollout) {
      if (r.result) total.inc({ result: r.result });
      step.set(0);
      deadline.set(0);
      candidateWeight.set(0);
    },
    aliasMoved(alias: string, name: string, version: string) {
      aliasMoves.inc({ alias });
      if (alias === 'production') {
        production.reset();
        production.set({ model_name: name, model_version: version }, 1);
      }
    },
    setProduction(name: string, version: string) {
      production.reset();
      production.set({ model_name: name, model_version: version }, 1);
    },
  };
}
