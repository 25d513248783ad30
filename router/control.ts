// RouterControl: the router's one implementation of its state — weights, upstreams, generation — behind both the
// in-process API (used by the rollout controller) and the admin HTTP API. Changes are serialised, checked against
// If-Match, validated, persisted before they take effect, then applied and logged with old and new values.
import type { Logger } from '../lib/log.js';
import { formatZodError } from '../lib/zod-errors.js';
import type { Color } from '../infra/runtime.js';
import { InvalidChangeError, StaleGenerationError } from './errors.js';
import { createUpstreamHealth, type UpstreamHealth } from './health.js';
import {
  COLORS,
  RouterState,
  Upstream,
  Weights,
  assertWeightedColorsHaveUpstreams,
  initialRouterState,
  type RouterStateStore,
  type RouterStateView,
} from './state.js';
import { createRouterStats, type CountEntry, type RouterStats } from './stats.js';
import { createTrafficSplit, type TrafficSplit } from './traffic-split.js';
import { createUpstreamPool, type UpstreamPool } from './upstream-pool.js';

/** Keep-alive sockets per upstream. */
const UPSTREAM_CONNECTIONS = 256;

/** Everything the hot path needs to send a request to a color, prepared once per upstream change. */
export interface Target {
  readonly color: Color;
  readonly url: string;
  readonly version: string;
  /** Keep-alive connections to the upstream. */
  readonly pool: UpstreamPool;
  /** The Host header line sent upstream (`host: 127.0.0.1:8081\r\n`). */
  readonly hostHeader: string;
  readonly counts: CountEntry;
}

export interface ChangeOptions {
  /** The generation the caller last saw (If-Match); a stale one fails with StaleGenerationError. */
  expectGeneration?: number;
  /** Recorded in the change log line. */
  reason?: string;
  actor?: string;
}

export interface RouterControl {
  readonly split: TrafficSplit;
  readonly health: UpstreamHealth;
  readonly stats: RouterStats;
  readonly targets: Readonly<Record<Color, Target | null>>;
  view(): RouterStateView;
  /** At least one color with weight > 0 is ready. */
  isReady(): boolean;
  setWeights(weights: Weights, opts?: ChangeOptions): Promise<RouterStateView>;
  setUpstream(color: Color, upstream: Upstream | null, opts?: ChangeOptions): Promise<RouterStateView>;
  switch(opts?: ChangeOptions): Promise<RouterStateView>;
  close(): void;
}

export interface ControlOptions {
  store: RouterStateStore;
  logger: Logger;
  probeIntervalMs?: number;
  probeTimeoutMs?: number;
}

export async function createRouterControl(opts: ControlOptions): Promise<RouterControl> {
  const log = opts.logger;
  let state: RouterState = (await opts.store.load()) ?? initialRouterState();
  const split = createTrafficSplit({ blue: state.blue.weight, green: state.green.weight });
  const stats = createRouterStats();
  const health = createUpstreamHealth({ logger: log, intervalMs: opts.probeIntervalMs, timeoutMs: opts.probeTimeoutMs });
  const targets: Record<Color, Target | null> = { blue: null, green: null };
  const retiring = new Set<UpstreamPool>();
  let queue: Promise<unknown> = Promise.resolve();

  const applyTarget = (color: Color): Promise<void> => {
    const { url, version } = state[color];
    const old = targets[color];
    if (old && old.url === url && old.version === version) return health.watch(color, { url, version });
    if (old) {
      // A replaced upstream's requests in flight finish; then its connections close.
      retiring.add(old.pool);
      void old.pool.close().finally(() => retiring.delete(old.pool));
    }
    stats.setVersion(color, version);
    if (url === null || version === null) {
      targets[color] = null;
      return health.watch(color, null);
    }
    targets[color] = {
      color,
      url,
      version,
      // Idle connections close after 30 s, well before the model server's 65 s keep-alive timeout, so the router
      // never reuses a socket the server is closing. Deadlines are the proxy's own.
      pool: createUpstreamPool(url, { maxConnections: UPSTREAM_CONNECTIONS, idleTimeoutMs: 30_000 }),
      hostHeader: `host: ${new URL(url).host}\r\n`,
      counts: stats.entry(color, version),
    };
    return health.watch(color, { url, version });
  };

  const view = (): RouterStateView => ({
    generation: state.generation,
    blue: { url: state.blue.url, version: state.blue.version, weight: state.blue.weight, ready: health.ready.blue },
    green: { url: state.green.url, version: state.green.version, weight: state.green.weight, ready: health.ready.green },
    updated_at: state.updated_at,
  });

  /** Runs one change at a time: check If-Match, compute the next state (or null for no change), persist, apply. */
  const change = (
    o: ChangeOptions,
    next: (current: RouterState) => RouterState | null,
    after: (before: RouterState, now: RouterState) => Promise<void>,
  ): Promise<RouterStateView> => {
    const run = async () => {
      if (o.expectGeneration !== undefined && o.expectGeneration !== state.generation) {
        throw new StaleGenerationError(o.expectGeneration, state.generation);
      }
      const proposed = next(state);
      if (proposed === null) return view();
      const candidate: RouterState = { ...proposed, generation: state.generation + 1, updated_at: new Date().toISOString() };
      assertWeightedColorsHaveUpstreams(candidate, state);
      await opts.store.save(candidate);
      const before = state;
      state = candidate;
      await after(before, candidate);
      return view();
    };
    const result = queue.then(run);
    queue = result.catch(() => undefined);
    return result;
  };

  const applyWeights = (before: RouterState, now: RouterState, o: ChangeOptions, event: string) => {
    split.setWeights({ blue: now.blue.weight, green: now.green.weight });
    log.info(
      {
        event: 'router.weights_changed',
        change: event,
        old: { blue: before.blue.weight, green: before.green.weight },
        new: { blue: now.blue.weight, green: now.green.weight },
        generation: now.generation,
        reason: o.reason,
        actor: o.actor,
      },
      `weights blue ${before.blue.weight}->${now.blue.weight}, green ${before.green.weight}->${now.green.weight}`,
    );
  };

  await Promise.all(COLORS.map((c) => applyTarget(c)));

  return {
    split,
    health,
    stats,
    targets,
    view,
    isReady: () => COLORS.some((c) => state[c].weight > 0 && health.ready[c]),

    setWeights(weights, o = {}) {
      const parsed = Weights.safeParse(weights);
      if (!parsed.success) return Promise.reject(new InvalidChangeError(`weights: ${formatZodError(parsed.error)}`, { weights }));
      const w = parsed.data;
      return change(
        o,
        (s) => (s.blue.weight === w.blue && s.green.weight === w.green ? null : { ...s, blue: { ...s.blue, weight: w.blue }, green: { ...s.green, weight: w.green } }),
        async (before, now) => applyWeights(before, now, o, 'set'),
      );
    },

    switch(o = {}) {
      return change(
        o,
        (s) => (s.blue.weight === s.green.weight ? null : { ...s, blue: { ...s.blue, weight: s.green.weight }, green: { ...s.green, weight: s.blue.weight } }),
        async (before, now) => applyWeights(before, now, o, 'switch'),
      );
    },

    setUpstream(color, upstream, o = {}) {
      let next: Upstream | null = null;
      if (upstream !== null) {
        const parsed = Upstream.safeParse(upstream);
        if (!parsed.success) return Promise.reject(new InvalidChangeError(`${color} upstream: ${formatZodError(parsed.error)}`, { color }));
        next = parsed.data;
      }
      return change(
        o,
        (s) => {
          const cur = s[color];
          if (cur.url === (next?.url ?? null) && cur.version === (next?.version ?? null)) return null;
          return { ...s, [color]: { ...cur, url: next?.url ?? null, version: next?.version ?? null } };
        },
        async (before, now) => {
          log.info(
            {
              event: 'router.upstream_changed',
              color,
              old: { url: before[color].url, version: before[color].version },
              new: { url: now[color].url, version: now[color].version },
              weight: now[color].weight,
              generation: now.generation,
              reason: o.reason,
              actor: o.actor,
            },
            `${color} upstream ${before[color].url ?? 'none'} (${before[color].version ?? '-'}) -> ${now[color].url ?? 'none'} (${now[color].version ?? '-'})`,
          );
          await applyTarget(color);
        },
      );
    },

    close() {
      health.close();
      for (const c of COLORS) targets[c]?.pool.destroy();
      for (const p of retiring) p.destroy();
      retiring.clear();
    },
  };
}
