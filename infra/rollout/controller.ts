// Rollout: the progressive-delivery controller. It runs inside the platform process next to the router and drives it
// in-process: start the candidate as the idle color, golden gate, canary steps (or a blue-green switch) judged on the
// router's per-color counters, then move the `production` alias — or put all traffic back on the live color at once.
// Every step is a checkpoint in a persisted record, so a restarted platform resumes the rollout or aborts it cleanly.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { GsgError, errorMessage } from '../../lib/errors.js';
import { ExitCode } from '../../lib/exit-codes.js';
import type { Logger } from '../../lib/log.js';
import type { Registry } from '../../registry/registry.js';
import type { RouterStateView, Weights } from '../../router/state.js';
import type { ColorStats, StatsSnapshot } from '../../router/stats.js';
import { otherColor, type Color, type Instance, type Runtime, type RuntimeKind } from '../runtime.js';
import { diffCounters, judge, type ColorCounters } from './analysis.js';
import { scoreGolden, smokeTest } from './pinned.js';
import { stepsOf, type GoldenRow, type RollbackRequest, type RolloutSpec } from './spec.js';
import type { HistoryEntry, Rollout, RolloutEvent, RolloutResult, RolloutStore, StepRecord } from './state.js';

export const PRODUCTION_ALIAS = 'production';

/** Refused before any traffic moved (bad ref, another rollout running, golden gate): exit 7, HTTP 409/422. */
export class RolloutRefusedError extends GsgError {
  readonly status: number;
  constructor(message: string, status = 409, context: Record<string, unknown> = {}) {
    super(message, { code: 'rollout_refused', context, exitCode: ExitCode.Refused });
    this.status = status;
  }
}

/** What the controller needs from the router (the in-process face of router/router.ts). */
export interface TrafficControl {
  getState(): RouterStateView;
  setWeights(weights: Weights, opts?: { reason?: string; actor?: string }): Promise<RouterStateView>;
  setUpstream(color: Color, upstream: { url: string; version: string } | null, opts?: { reason?: string; actor?: string }): Promise<RouterStateView>;
  stats(): StatsSnapshot;
}

/** Hooks the platform turns into metrics (gsg_cold_start_seconds, gsg_rollout_*, gsg_production_info, ...). */
export interface RolloutObserver {
  coldStart?(version: string, runtime: RuntimeKind, seconds: number): void;
  step?(rollout: Rollout): void;
  finished?(rollout: Rollout): void;
  aliasMoved?(alias: string, name: string, version: string): void;
  instancesChanged?(): void;
}

export interface ControllerOptions {
  traffic: TrafficControl;
  /** Base URL of the router's own listener, for pinned golden/smoke requests. */
  routerUrl: () => string;
  registry: Registry;
  store: RolloutStore;
  /** The runtime for a kind (the platform's default when undefined). */
  runtime: (kind?: RuntimeKind) => Runtime;
  modelName: string;
  logger: Logger;
  observer?: RolloutObserver;
  now?: () => Date;
  /** How long to wait for the router's probe to see a started color ready. */
  routerReadyTimeoutMs?: number;
  /** Grace period when stopping a color. */
  stopGraceMs?: number;
}

export interface RolloutController {
  /** Validates, resolves the ref and starts the rollout in the background; refuses when one is in progress. */
  submit(spec: RolloutSpec): Promise<Rollout>;
  rollback(req: RollbackRequest): Promise<Rollout>;
  current(): Rollout | undefined;
  /** Events after `after` (long-poll up to waitMs when there are none yet). */
  events(id: string, after: number, waitMs: number): Promise<{ rollout: Rollout; events: RolloutEvent[] } | undefined>;
  history(): Promise<HistoryEntry[]>;
  /**
   * At platform start: resume or abort what the last process left in progress; re-arm the scale-down timer.
   * `loaded`: what the store holds, when the caller has read it already (null: nothing).
   */
  recover(loaded?: Rollout | null): Promise<void>;
  /** Graceful shutdown: a running rollout is aborted (traffic back on the live color); timers stop. */
  close(): Promise<void>;
  /** Whether a rollout/rollback is in progress. */
  busy(): boolean;
  /** Starts `version` as `color` through the runtime and points the router at it (weight unchanged); used at platform start too. */
  startColor(color: Color, version: string, kind?: RuntimeKind, env?: Record<string, string>): Promise<Instance>;
}

class RollbackSignal extends Error {}
class RefusalSignal extends Error {}
class ClosingSignal extends Error {}

const iso = (d: Date) => d.toISOString();
const newId = (now: Date) => `${iso(now).slice(0, 19).replace(/[-:T]/g, '')}-${randomBytes(3).toString('hex')}`;

/** Router stats of one color as analysis counters (the router's histogram has one open-ended bucket more). */
function counters(s: ColorStats): ColorCounters {
  return { requests: s.requests, errors: s.errors5xx, latency: { bounds: [...s.latency.bounds, Infinity], counts: s.latency.counts } };
}

export function createRolloutController(opts: ControllerOptions): RolloutController {
  const log = opts.logger;
  const now = opts.now ?? (() => new Date());
  const routerReadyTimeoutMs = opts.routerReadyTimeoutMs ?? 15_000;
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  let current: Rollout | undefined;
  let running: Promise<void> | undefined;
  let abortRequest: { reason: string; actor: string } | undefined;
  let wake: (() => void) | undefined;
  let closing = false;
  let scaleDownTimer: NodeJS.Timeout | undefined;
  let saving = Promise.resolve();

  const save = (r: Rollout) => {
    r.updated_at = iso(now());
    const snapshot = structuredClone(r);
    saving = saving.then(() => opts.store.save(snapshot)).catch((err) => log.error({ event: 'rollout.persist_failed', err: errorMessage(err) }, 'could not persist rollout state'));
    return saving;
  };

  const event = (r: Rollout, type: string, message: string, data?: Record<string, unknown>) => {
    const e: RolloutEvent = { seq: (r.events.at(-1)?.seq ?? 0) + 1, at: iso(now()), type, message, ...(data ? { data } : {}) };
    r.events.push(e);
    if (r.events.length > 500) r.events.splice(0, r.events.length - 500);
    log.info({ event: `rollout.${type}`, rollout_id: r.id, ...data }, message);
    emitter.emit('event', r.id);
    return save(r);
  };

  /** Sleeps, but wakes early for an abort (manual rollback) or close. */
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  const checkInterrupt = () => {
    if (closing) throw new ClosingSignal('platform shutting down');
    if (abortRequest) throw new RollbackSignal(`manual rollback by ${abortRequest.actor}: ${abortRequest.reason}`);
  };

  const weightsFor = (candidate: Color, weight: number): Weights =>
    candidate === 'blue' ? { blue: weight, green: 100 - weight } : { blue: 100 - weight, green: weight };

  async function instanceOf(kind: RuntimeKind | undefined, id: string | null): Promise<Instance | undefined> {
    if (!id) return undefined;
    return (await opts.runtime(kind).list()).find((i) => i.id === id);
  }

  async function stopInstance(kind: RuntimeKind | undefined, id: string | null, color: Color, r?: Rollout) {
    if (!id) return;
    try {
      await opts.traffic.setUpstream(color, null, { reason: r ? `rollout ${r.id}: stop ${color}` : `stop ${color}` }).catch(() => undefined);
      await opts.runtime(kind).stop(id, { graceMs: opts.stopGraceMs });
    } catch (err) {
      log.warn({ event: 'rollout.stop_failed', color, instance_id: id, err: errorMessage(err) }, 'could not stop instance');
    }
    opts.observer?.instancesChanged?.();
  }

  async function waitRouterReady(color: Color, timeoutMs = routerReadyTimeoutMs) {
    const deadline = Date.now() + timeoutMs;
    while (!opts.traffic.getState()[color].ready) {
      if (Date.now() > deadline) throw new Error(`the router did not see ${color} ready within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Starts `version` as `color` and points the router at it (weight unchanged). */
  async function startColor(color: Color, version: string, kind: RuntimeKind | undefined, env: Record<string, string>) {
    const m = await opts.registry.materialize(`${opts.modelName}@${version}`);
    const runtime = opts.runtime(kind);
    const inst = await runtime.start({ color, modelName: m.name, version: m.version, modelDir: m.dir, env });
    opts.observer?.coldStart?.(inst.version, runtime.kind, inst.coldStartSeconds);
    opts.observer?.instancesChanged?.();
    await opts.traffic.setUpstream(color, { url: inst.url, version: inst.version }, { reason: `start ${version} as ${color}` });
    await waitRouterReady(color);
    return inst;
  }

  async function finish(r: Rollout, result: RolloutResult, reason: string) {
    r.phase = 'done';
    r.result = result;
    r.result_reason = reason;
    r.ended_at = iso(now());
    await event(r, result, `${result.replace('_', ' ')}: ${reason}`, { result });
    const entry: HistoryEntry = {
      id: r.id,
      kind: r.kind,
      model_name: r.model_name,
      from_version: r.stable.version,
      to_version: r.candidate.version,
      strategy: r.kind === 'rollout' ? r.spec.strategy : null,
      result,
      reason: r.reason,
      result_reason: reason,
      actor: r.actor,
      started_at: r.started_at,
      ended_at: r.ended_at,
      steps: r.steps,
    };
    await opts.store.appendHistory(entry).catch((err) => log.error({ event: 'rollout.history_failed', err: errorMessage(err) }, 'could not append history'));
    opts.observer?.finished?.(r);
  }

  /** All traffic back on the stable color, candidate stopped; the alias is not touched. */
  async function revert(r: Rollout, result: RolloutResult, reason: string) {
    r.phase = 'rolling-back';
    await save(r);
    const state = opts.traffic.getState();
    if (state[r.stable.color].url) {
      await opts.traffic.setWeights(weightsFor(r.candidate.color, 0), { reason: `rollout ${r.id}: ${result}` });
    }
    await stopInstance(r.spec.runtime, r.candidate.instance_id, r.candidate.color, r);
    await finish(r, result, reason);
  }

  async function moveAlias(r: Rollout, to: string, expect: string) {
    const aliases = await opts.registry.aliases(r.model_name);
    if (aliases[PRODUCTION_ALIAS] === to) return; // already moved (resumed after a restart)
    await opts.registry.setAlias(r.model_name, PRODUCTION_ALIAS, to, {
      expect,
      actor: r.actor,
      reason: `${r.kind} ${r.id}${r.reason ? `: ${r.reason}` : ''}`,
    });
    opts.observer?.aliasMoved?.(PRODUCTION_ALIAS, r.model_name, to);
  }

  function armScaleDown(r: Rollout) {
    clearTimeout(scaleDownTimer);
    const sd = r.scale_down;
    if (!sd) return;
    const delay = Math.max(0, Date.parse(sd.at) - now().getTime());
    scaleDownTimer = setTimeout(() => {
      void (async () => {
        if (current !== r || r.scale_down !== sd || running) return;
        await stopInstance(r.kind === 'rollout' ? r.spec.runtime : undefined, sd.instance_id, sd.color, r);
        r.scale_down = null;
        await event(r, 'scaled_down', `stopped ${sd.color} (${sd.version}) after the scale-down delay; a rollback now restarts it`);
      })();
    }, delay);
    scaleDownTimer.unref();
  }

  async function analyse(r: Rollout, weight: number) {
    const spec = r.spec;
    const stepStart = Date.now();
    r.step_started_at = iso(now());
    opts.observer?.step?.(r);
    await save(r);
    const before = counters(opts.traffic.stats().colors[r.candidate.color]);
    for (;;) {
      await pause(spec.interval_ms);
      checkInterrupt();
      const window = diffCounters(before, counters(opts.traffic.stats().colors[r.candidate.color]));
      const v = judge(window, { minRequests: spec.min_requests, maxErrorRate: spec.max_error_rate, maxP99Ms: spec.max_p99_ms });
      const rec: StepRecord = {
        weight,
        requests: v.metrics.requests,
        error_rate: v.metrics.errorRate,
        p99_ms: v.metrics.p99Ms ?? null,
        verdict: v.kind,
      };
      const line = `step ${r.step_index + 1}/${stepsOf(r.spec).length} weight ${weight}%: ${rec.requests} requests, error rate ${(rec.error_rate * 100).toFixed(2)}%, p99 ${rec.p99_ms === null ? '-' : rec.p99_ms.toFixed(1) + ' ms'} -> ${v.kind}`;
      await event(r, 'analysis', line, { ...rec, step: r.step_index + 1 });
      if (v.kind === 'pass') {
        r.steps.push(rec);
        return;
      }
      if (v.kind === 'fail') {
        r.steps.push(rec);
        throw new RollbackSignal(`step ${r.step_index + 1} at ${weight}%: ${v.reason}`);
      }
      if (Date.now() - stepStart >= spec.deadline_ms) {
        r.steps.push(rec);
        throw new RollbackSignal(`inconclusive: ${v.reason} after waiting ${Math.round((Date.now() - stepStart) / 1000)} s (deadline ${Math.round(spec.deadline_ms / 1000)} s)`);
      }
    }
  }


  /** Runs (or resumes) a rollout from its persisted phase until it ends. */
  async function drive(r: Rollout, golden: GoldenRow[] | undefined) {
    const spec = r.spec;
    try {
      if (r.phase === 'starting') {
        await event(r, 'starting', `starting ${r.model_name}@${r.candidate.version} as ${r.candidate.color} (${opts.runtime(spec.runtime).kind} runtime)`);
        const inst = await startColor(r.candidate.color, r.candidate.version, spec.runtime, spec.env);
        r.candidate.instance_id = inst.id;
        r.candidate.url = inst.url;
        r.candidate.cold_start_seconds = inst.coldStartSeconds;
        r.phase = golden ? 'golden' : spec.strategy === 'blue-green' ? 'smoke' : 'analysing';
        await event(r, 'candidate_ready', `${r.candidate.color} ready at ${inst.url} (cold start ${inst.coldStartSeconds.toFixed(2)} s)`, { cold_start_seconds: inst.coldStartSeconds });
        checkInterrupt();
      }
      if (r.phase === 'golden') {
        if (!golden) throw new RefusalSignal('golden rows lost (platform restarted during the golden gate)');
        const url = opts.routerUrl();
        const cand = await scoreGolden(url, r.candidate.color, golden);
        const live = await scoreGolden(url, r.stable.color, golden);
        const drop = live.f1Negative - cand.f1Negative;
        const msg = `golden gate on ${golden.length} rows: F1_neg candidate ${cand.f1Negative.toFixed(4)} vs live ${live.f1Negative.toFixed(4)} (drop ${drop.toFixed(4)}, limit ${spec.max_f1_drop})`;
        await event(r, 'golden', msg, { candidate_f1_negative: cand.f1Negative, live_f1_negative: live.f1Negative, drop });
        if (drop > spec.max_f1_drop) throw new RefusalSignal(`golden gate failed: ${msg}`);
        r.phase = spec.strategy === 'blue-green' ? 'smoke' : 'analysing';
        await save(r);
        checkInterrupt();
      }
      if (r.phase === 'smoke') {
        try {
          await smokeTest(opts.routerUrl(), r.candidate.color);
        } catch (err) {
          throw new RefusalSignal(`smoke test against ${r.candidate.color} failed: ${errorMessage(err)}`);
        }
        await event(r, 'smoke', `smoke requests pinned to ${r.candidate.color} passed`);
        r.phase = 'analysing';
        await save(r);
      }
      if (r.phase === 'analysing') {
        const steps = stepsOf(r.spec);
        for (; r.step_index < steps.length; r.step_index++) {
          checkInterrupt();
          const weight = steps[r.step_index]!;
          await opts.traffic.setWeights(weightsFor(r.candidate.color, weight), { reason: `rollout ${r.id} step ${r.step_index + 1}`, actor: r.actor });
          await event(r, 'step', `step ${r.step_index + 1}/${steps.length}: ${r.candidate.color} (${r.candidate.version}) at ${weight}%, ${r.stable.color} (${r.stable.version}) at ${100 - weight}%`, { step: r.step_index + 1, weight });
          await analyse(r, weight);
        }
        r.phase = 'promoting';
        await save(r);
      }
      if (r.phase === 'promoting') {
        await moveAlias(r, r.candidate.version, r.stable.version);
        r.scale_down = { color: r.stable.color, version: r.stable.version, instance_id: r.stable.instance_id, at: iso(new Date(now().getTime() + spec.scale_down_delay_ms)) };
        await finish(r, 'promoted', `${r.model_name}:${PRODUCTION_ALIAS} is now ${r.candidate.version}; ${r.stable.color} (${r.stable.version}) keeps running until ${r.scale_down.at} for an instant rollback`);
        armScaleDown(r);
      }
    } catch (err) {
      // A graceful shutdown puts traffic back on the live color (the servers are about to stop); only a crash resumes.
      if (err instanceof ClosingSignal) return revert(r, 'aborted', 'the platform shut down during the rollout');
      if (err instanceof RefusalSignal) return revert(r, 'refused', err.message);
      if (err instanceof RollbackSignal) return revert(r, 'rolled_back', err.message);
      log.error({ event: 'rollout.error', rollout_id: r.id, err: errorMessage(err) }, 'rollout failed');
      return revert(r, r.step_index === 0 && r.phase !== 'analysing' && r.phase !== 'promoting' ? 'refused' : 'failed', `error: ${errorMessage(err)}`);
    } finally {
      r.step_started_at = r.phase === 'done' ? null : r.step_started_at;
      opts.observer?.step?.(r);
    }
  }

  function launch(r: Rollout, work: () => Promise<void>) {
    current = r;
    abortRequest = undefined;
    running = work()
      .catch((err) => log.error({ event: 'rollout.crashed', rollout_id: r.id, err: errorMessage(err) }, 'rollout crashed'))
      .finally(() => {
        running = undefined;
        emitter.emit('event', r.id);
      });
  }

  function liveColor(state: RouterStateView): Color | undefined {
    if (state.blue.weight === 100 && state.blue.url) return 'blue';
    if (state.green.weight === 100 && state.green.url) return 'green';
    return undefined;
  }

  async function instanceIdFor(color: Color, url: string | null): Promise<{ id: string | null; kind: RuntimeKind | undefined }> {
    if (!url) return { id: null, kind: undefined };
    for (const kind of ['process', 'docker'] as const) {
      let rt: Runtime;
      try {
        rt = opts.runtime(kind);
      } catch {
        continue;
      }
      const inst = (await rt.list().catch(() => [])).find((i) => i.color === color && i.url === url);
      if (inst) return { id: inst.id, kind };
    }
    return { id: null, kind: undefined };
  }

  function newRecord(kind: Rollout['kind'], spec: RolloutSpec, stable: Rollout['stable'], candidateColor: Color, candidateVersion: string): Rollout {
    const t = now();
    const { golden, ...rest } = spec;
    return {
      id: newId(t),
      kind,
      spec: { ...rest, ...(golden ? { golden: { name: golden.name, rows: golden.rows.length } } : {}) },
      model_name: opts.modelName,
      actor: spec.actor ?? 'unknown',
      reason: spec.reason ?? null,
      stable,
      candidate: { color: candidateColor, version: candidateVersion, instance_id: null, url: null, cold_start_seconds: null },
      phase: 'starting',
      step_index: 0,
      step_started_at: null,
      steps: [],
      started_at: iso(t),
      updated_at: iso(t),
      ended_at: null,
      result: null,
      result_reason: null,
      scale_down: null,
      events: [],
    };
  }

  /** The old color of the last promotion, if it still runs (the instant-rollback window). */
  async function instantRollbackTarget(): Promise<Rollout | undefined> {
    const last = current;
    if (!last || last.phase !== 'done' || !last.scale_down || last.result !== 'promoted') return undefined;
    const state = opts.traffic.getState();
    const sd = last.scale_down;
    const inst = await instanceOf(last.kind === 'rollout' ? last.spec.runtime : undefined, sd.instance_id);
    if (!inst || state[sd.color].url !== inst.url || !state[sd.color].ready) return undefined;
    return last;
  }

  async function doRollback(req: RollbackRequest): Promise<Rollout> {
    const actor = req.actor ?? 'unknown';
    const reason = req.reason ?? 'manual rollback';
    const state = opts.traffic.getState();
    const live = liveColor(state);
    if (!live) throw new RolloutRefusedError('traffic is split and no rollout is running: set the weights first (PUT /admin/weights)');
    const liveVersion = state[live].version!;
    const prev = await instantRollbackTarget();
    const baseSpec = { ref: '', strategy: 'blue-green' as const, steps: [100], interval_ms: 1000, min_requests: 1, max_error_rate: 1, max_p99_ms: 1e9, deadline_ms: 1, max_f1_drop: 1, scale_down_delay_ms: 0, env: {}, actor, reason };
    const liveInst = await instanceIdFor(live, state[live].url);

    if (prev?.scale_down) {
      // Instant: the old color still runs; flip the weights and the alias back, no analysis re-run.
      const sd = prev.scale_down;
      const r = newRecord('rollback', { ...baseSpec, ref: `${opts.modelName}@${sd.version}` }, { color: live, version: liveVersion, instance_id: liveInst.id }, sd.color, sd.version);
      r.candidate.instance_id = sd.instance_id;
      r.candidate.url = state[sd.color].url;
      current = r;
      prev.scale_down = null;
      clearTimeout(scaleDownTimer);
      await opts.traffic.setWeights(weightsFor(sd.color, 100), { reason: `rollback ${r.id}`, actor });
      await event(r, 'switched', `instant rollback: ${sd.color} (${sd.version}) at 100%, ${live} (${liveVersion}) at 0%`);
      await moveAlias(r, sd.version, liveVersion);
      r.scale_down = null;
      await finish(r, 'completed', `${opts.modelName}:${PRODUCTION_ALIAS} is back on ${sd.version} (instant: the old color was still running)`);
      // The rolled-back color has weight 0 now; it drains and stops in the background so the caller gets its answer at once.
      void stopInstance(liveInst.kind, liveInst.id, live, r);
      return r;
    }

    // After the window: start the previous production version again, wait until ready, switch.
    const moves = await opts.registry.aliasHistory(opts.modelName, PRODUCTION_ALIAS);
    const lastMove = [...moves].reverse().find((m) => m.to === liveVersion);
    const target = lastMove?.from ?? null;
    if (!target) throw new RolloutRefusedError(`nothing to roll back to: ${opts.modelName}:${PRODUCTION_ALIAS} has no previous version`, 409);
    const idle = otherColor(live);
    const r = newRecord('rollback', { ...baseSpec, ref: `${opts.modelName}@${target}` }, { color: live, version: liveVersion, instance_id: liveInst.id }, idle, target);
    launch(r, async () => {
      try {
        await stopInstance(undefined, (await instanceIdFor(idle, opts.traffic.getState()[idle].url)).id, idle, r);
        await event(r, 'starting', `rollback: starting ${opts.modelName}@${target} as ${idle}`);
        const inst = await startColor(idle, target, undefined, {});
        r.candidate.instance_id = inst.id;
        r.candidate.url = inst.url;
        r.candidate.cold_start_seconds = inst.coldStartSeconds;
        await opts.traffic.setWeights(weightsFor(idle, 100), { reason: `rollback ${r.id}`, actor });
        await event(r, 'switched', `${idle} (${target}) at 100%, ${live} (${liveVersion}) at 0%`);
        await moveAlias(r, target, liveVersion);
        await finish(r, 'completed', `${opts.modelName}:${PRODUCTION_ALIAS} is back on ${target}`);
        await stopInstance(liveInst.kind, liveInst.id, live, r);
      } catch (err) {
        await revert(r, 'failed', `rollback failed: ${errorMessage(err)}`);
      }
    });
    await running;
    return r;
  }

  return {
    startColor: (color, version, kind, env = {}) => startColor(color, version, kind, env),
    busy: () => running !== undefined,
    current: () => current,

    async submit(spec) {
      if (closing) throw new RolloutRefusedError('the platform is shutting down', 503);
      if (running) throw new RolloutRefusedError(`rollout ${current?.id} is in progress (${current?.phase}); wait for it or roll it back`, 409, { id: current?.id });
      let resolved;
      try {
        resolved = await opts.registry.resolve(spec.ref);
      } catch (err) {
        throw new RolloutRefusedError(`bad ref ${spec.ref}: ${errorMessage(err)}`, 422, { ref: spec.ref });
      }
      if (resolved.name !== opts.modelName) throw new RolloutRefusedError(`${spec.ref} is model ${resolved.name}; this platform serves ${opts.modelName}`, 422);
      const state = opts.traffic.getState();
      const live = liveColor(state);
      if (!live) throw new RolloutRefusedError('traffic is split between blue and green with no rollout watching it: set the weights to 100/0 first', 409);
      if (!state[live].ready) throw new RolloutRefusedError(`the live color ${live} is not ready`, 409);
      const liveVersion = state[live].version!;
      if (resolved.version === liveVersion) throw new RolloutRefusedError(`${resolved.name}@${resolved.version} is already live on ${live}`, 409);
      const liveInst = await instanceIdFor(live, state[live].url);
      const candidate = otherColor(live);
      // The idle color may still hold the previous version (scale-down window): the new rollout ends that window.
      const idleInst = await instanceIdFor(candidate, state[candidate].url);
      if (current?.scale_down) {
        current.scale_down = null;
        clearTimeout(scaleDownTimer);
        await save(current);
      }
      const r = newRecord('rollout', spec, { color: live, version: liveVersion, instance_id: liveInst.id }, candidate, resolved.version);
      await save(r);
      launch(r, async () => {
        await event(r, 'submitted', `rollout ${r.id}: ${resolved.name}@${resolved.version} (${spec.strategy}${spec.strategy === 'canary' ? ` ${spec.steps.join(',')}` : ''}) replacing ${liveVersion} on ${live}, by ${r.actor}${r.reason ? `: ${r.reason}` : ''}`);
        if (idleInst.id) await stopInstance(idleInst.kind, idleInst.id, candidate, r);
        await drive(r, spec.golden?.rows);
      });
      return r;
    },

    async rollback(req) {
      if (closing) throw new RolloutRefusedError('the platform is shutting down', 503);
      if (running && current) {
        if (current.kind === 'rollback') throw new RolloutRefusedError(`rollback ${current.id} is already in progress`, 409);
        const r = current;
        abortRequest = { reason: req.reason ?? 'manual rollback', actor: req.actor ?? 'unknown' };
        wake?.();
        await running;
        return r;
      }
      return doRollback(req);
    },

    async events(id, after, waitMs) {
      const r = current?.id === id ? current : undefined;
      if (!r) return undefined;
      const pending = () => r.events.filter((e) => e.seq > after);
      if (pending().length === 0 && r.phase !== 'done') {
        await new Promise<void>((resolve) => {
          const t = setTimeout(done, waitMs);
          function done() {
            clearTimeout(t);
            emitter.off('event', onEvent);
            resolve();
          }
          function onEvent(eid: string) {
            if (eid === id) done();
          }
          emitter.on('event', onEvent);
        });
      }
      return { rollout: r, events: pending() };
    },

    history: () => opts.store.history(),

    async recover(loaded) {
      const r = loaded === undefined ? await opts.store.load() : loaded;
      if (!r) return;
      current = r;
      if (r.phase === 'done') {
        if (r.scale_down) armScaleDown(r);
        return;
      }
      const state = opts.traffic.getState();
      const candAlive = (await instanceOf(r.spec.runtime, r.candidate.instance_id)) !== undefined && state[r.candidate.color].url === r.candidate.url;
      const stableUp = state[r.stable.color].url !== null;
      if (r.kind === 'rollout' && (r.phase === 'analysing' || r.phase === 'promoting') && candAlive && stableUp) {
        await event(r, 'resumed', `platform restarted: resuming step ${r.step_index + 1} (${r.phase})`);
        launch(r, () => drive(r, undefined));
        return;
      }
      launch(r, async () => {
        await event(r, 'aborting', `platform restarted during ${r.phase}: ${candAlive ? '' : 'candidate gone, '}aborting`);
        if (!stableUp) {
          // The stable color lost its upstream too: bring the production version back before moving traffic.
          const inst = await startColor(r.stable.color, r.stable.version, undefined, {});
          r.stable.instance_id = inst.id;
        }
        await revert(r, 'aborted', `platform restarted during ${r.phase}; traffic back on ${r.stable.color} (${r.stable.version})`);
      });
    },

    async close() {
      closing = true;
      clearTimeout(scaleDownTimer);
      wake?.();
      await running;
      await saving;
    },
  };
}
