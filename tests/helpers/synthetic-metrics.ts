// A synthetic platform for the observability tests while (and wherever) the real one is not running: real HTTP
// /metrics endpoints built with prom-client, exposing the metric names, labels and histogram buckets of
// docs/architecture.md — the platform process (router + rollout + build/cold-start metrics, the router's exported
// buckets) and one model server per color (the model server's own metrics) — fed by simulated traffic (seeded, so
// runs are alike) split by the colors' weights.
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Color } from '../../infra/runtime.js';
import { targetGroupsFor, type TargetGroup } from '../../infra/prometheus-image/file-sd.js';
import { EXPORTED_BUCKETS } from '../../router/metrics.js';
import { createServerMetrics } from '../../services/model-server/src/metrics.js';

export interface SyntheticColor {
  color: Color;
  version: string;
  /** Percent of traffic (gsg_router_weight). */
  weight: number;
  /** Share of prediction requests answered 500 (default 0). */
  errorRate?: number;
  /** Median server latency of a one-text request, ms (default 3). */
  medianLatencyMs?: number;
  /** Share of texts predicted negative (default 0.3). */
  negativeShare?: number;
  coldStartSeconds?: number;
  imageSizeBytes?: number;
}

export interface SyntheticPlatformOptions {
  colors: SyntheticColor[];
  modelName?: string;
  /** Total requests per second through the router (default 40). */
  requestsPerSecond?: number;
  /** A rollout in progress: its step and seconds until the step's deadline (negative = overdue). Default: none. */
  rollout?: { step: number; deadlineInSeconds: number };
  /** The version the `production` alias points at (default: the first color's). */
  productionVersion?: string;
  seed?: number;
}

export interface SyntheticPlatform {
  /** host:port of the platform's /metrics (router + platform metrics). */
  platformTarget: string;
  /** The model servers as file-SD target groups (what the platform writes to targets.json). */
  modelServers: TargetGroup[];
  stop(): Promise<void>;
}

/** mulberry32: a small seeded PRNG, so two runs see the same traffic. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function listen(registry: Registry): Promise<{ server: Server; target: string }> {
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"detail":"not found"}');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: unknown) => res.writeHead(500).end(String(err)),
    );
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const addr = server.address();
    resolve({ server, target: `127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}` });
  }));
}

function platformMetrics(registry: Registry) {
  const registers = [registry];
  return {
    requests: new Counter({ name: 'gsg_router_requests_total', help: 'routed requests', labelNames: ['color', 'model_version', 'status_class'], registers }),
    duration: new Histogram({ name: 'gsg_router_request_duration_seconds', help: 'routed request duration', labelNames: ['color'], buckets: EXPORTED_BUCKETS, registers }),
    weight: new Gauge({ name: 'gsg_router_weight', help: 'percent of traffic', labelNames: ['color'], registers }),
    up: new Gauge({ name: 'gsg_router_upstream_up', help: 'upstream ready', labelNames: ['color'], registers }),
    upstreamInfo: new Gauge({ name: 'gsg_router_upstream_info', help: 'upstream version', labelNames: ['color', 'model_version'], registers }),
    retries: new Counter({ name: 'gsg_router_retries_total', help: 'retried requests', labelNames: ['color'], registers }),
    imageSize: new Gauge({ name: 'gsg_image_size_bytes', help: 'image size', labelNames: ['model_version'], registers }),
    coldStart: new Gauge({ name: 'gsg_cold_start_seconds', help: 'create to ready', labelNames: ['model_version', 'runtime'], registers }),
    rolloutStep: new Gauge({ name: 'gsg_rollout_step', help: 'current rollout step (0: none)', registers }),
    rolloutDeadline: new Gauge({ name: 'gsg_rollout_deadline_timestamp_seconds', help: 'deadline of the current step (0: none)', registers }),
    rollouts: new Counter({ name: 'gsg_rollout_total', help: 'finished rollouts', labelNames: ['result'], registers }),
    production: new Gauge({ name: 'gsg_production_info', help: 'production version', labelNames: ['model_name', 'model_version'], registers }),
    aliasMoves: new Counter({ name: 'gsg_alias_moves_total', help: 'alias moves', labelNames: ['alias'], registers }),
  };
}

/** Starts the synthetic platform and its traffic; `stop()` closes every server and timer. */
export async function startSyntheticPlatform(opts: SyntheticPlatformOptions): Promise<SyntheticPlatform> {
  const modelName = opts.modelName ?? 'sentiment-logreg';
  const random = rng(opts.seed ?? 42);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());

  const platformRegistry = new Registry();
  collectDefaultMetrics({ register: platformRegistry });
  const p = platformMetrics(platformRegistry);
  const platform = await listen(platformRegistry);

  const servers = await Promise.all(
    opts.colors.map(async (c, i) => {
      // The model server's own metrics (names, labels and buckets as it exports them).
      const m = createServerMetrics();
      m.setModel({ modelName, version: c.version, sha256: `${'ab'.repeat(31)}${i.toString(16).padStart(2, '0')}` });
      m.setModelLoadSeconds(0.12 + 0.01 * i);
      m.setStartToReadySeconds(0.45 + 0.02 * i);
      return { ...c, m, ...(await listen(m.registry)) };
    }),
  );

  for (const c of servers) {
    p.weight.set({ color: c.color }, c.weight);
    p.up.set({ color: c.color }, 1);
    p.upstreamInfo.set({ color: c.color, model_version: c.version }, 1);
    p.imageSize.set({ model_version: c.version }, c.imageSizeBytes ?? 152_000_000);
    p.coldStart.set({ model_version: c.version, runtime: 'docker' }, c.coldStartSeconds ?? 0.9);
  }
  p.rolloutStep.set(opts.rollout?.step ?? 0);
  p.rolloutDeadline.set(opts.rollout ? Date.now() / 1000 + opts.rollout.deadlineInSeconds : 0);
  p.rollouts.inc({ result: 'promoted' });
  p.rollouts.inc({ result: 'rolled_back' });
  p.production.set({ model_name: modelName, model_version: opts.productionVersion ?? opts.colors[0]!.version }, 1);
  p.aliasMoves.inc({ alias: 'production' }, 2);

  // One routed prediction request: the server's view (route, status, batch, sentiments) and the router's.
  const serve = (c: (typeof servers)[number]) => {
    const batch = random() < 0.8 ? 1 : random() < 0.75 ? 10 : 100;
    const seconds = ((c.medianLatencyMs ?? 3) * Math.exp(0.4 * normal()) * (1 + batch / 200)) / 1000;
    const r = random();
    const status = r < (c.errorRate ?? 0) ? 500 : r > 0.99 ? 422 : 200;
    c.m.observeRequest('/predict', status, seconds);
    c.m.observeBatch(batch);
    if (status === 200) {
      let negative = 0;
      for (let i = 0; i < batch; i++) if (random() < (c.negativeShare ?? 0.3)) negative++;
      c.m.countPredictions(negative, batch - negative);
    }
    p.requests.inc({ color: c.color, model_version: c.version, status_class: `${String(status)[0]}xx` });
    p.duration.observe({ color: c.color }, seconds + 0.0004);
    if (status === 500) p.retries.inc({ color: c.color });
  };

  // Smooth weighted round-robin over the colors with weight, as the router splits unsticky traffic.
  const current = new Map(servers.map((c) => [c, 0]));
  const total = servers.reduce((s, c) => s + c.weight, 0);
  const pick = () => {
    let best = servers[0]!;
    for (const c of servers) {
      current.set(c, current.get(c)! + c.weight);
      if (current.get(c)! > current.get(best)!) best = c;
    }
    current.set(best, current.get(best)! - total);
    return best;
  };

  const rps = opts.requestsPerSecond ?? 40;
  let owed = 0;
  let ticks = 0;
  const tick = () => {
    owed += rps / 10;
    for (; owed >= 1 && total > 0; owed--) {
      // now and then a request the router answers itself (bad body: 4xx), counted under color "none"
      if (random() < 0.02) p.requests.inc({ color: 'none', model_version: 'none', status_class: '4xx' });
      else serve(pick());
    }
    if (ticks++ % 10 === 0) {
      // the router's /ready probe of every upstream, once a second
      for (const c of servers) c.m.observeRequest('/ready', 200, 0.0002);
    }
  };
  tick();
  const timer = setInterval(tick, 100);

  return {
    platformTarget: platform.target,
    modelServers: targetGroupsFor(servers.map((c) => ({ color: c.color, version: c.version, metricsTarget: c.target }))),
    async stop() {
      clearInterval(timer);
      await Promise.all(
        [platform.server, ...servers.map((s) => s.server)].map((s) => {
          const closed = new Promise((r) => s.close(r));
          s.closeAllConnections();
          return closed;
        }),
      );
    },
  };
}
