// Prometheus metrics of one model server (names fixed in docs/architecture.md, "Model server"). Label sets are
// bounded: route is one of ROUTES, status a code, model_version the one loaded version. Per-label children are
// created once and cached, so recording on the hot path is a few array writes and no label hashing.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const ROUTES = ['/predict', '/predict/explain', '/health', '/ready', '/model/info', '/metrics', '/openapi.json', '/docs', 'other'] as const;
export type RouteLabel = (typeof ROUTES)[number];

export const NO_VERSION = 'none';

export interface ServerMetrics {
  readonly registry: Registry;
  /** Sets the model_version label used from now on (before load it is "none"). */
  setModel(info: { modelName: string; version: string; sha256: string }): void;
  observeRequest(route: RouteLabel, status: number, seconds: number): void;
  countPredictions(negative: number, positive: number): void;
  observeBatch(texts: number): void;
  setModelLoadSeconds(seconds: number): void;
  setStartToReadySeconds(seconds: number): void;
}

/** Buckets of gsg_server_request_duration_seconds (seconds). */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Buckets of gsg_server_batch_size (texts per request). */
export const BATCH_BUCKETS = [1, 2, 5, 10, 20, 50, 100];

export function createServerMetrics(registry: Registry = new Registry(), opts: { defaultMetrics?: boolean } = {}): ServerMetrics {
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const duration = new Histogram({
    name: 'gsg_server_request_duration_seconds',
    help: 'HTTP request duration by route, status and model version',
    labelNames: ['route', 'status', 'model_version'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const predictions = new Counter({
    name: 'gsg_server_predictions_total',
    help: 'Texts classified, by predicted sentiment and model version',
    labelNames: ['sentiment', 'model_version'] as const,
    registers: [registry],
  });
  const batchSize = new Histogram({
    name: 'gsg_server_batch_size',
    help: 'Texts per prediction request',
    labelNames: ['model_version'] as const,
    buckets: BATCH_BUCKETS,
    registers: [registry],
  });
  const loadSeconds = new Gauge({ name: 'gsg_server_model_load_seconds', help: 'Time to load, verify and warm up the model', labelNames: ['model_version'] as const, registers: [registry] });
  const startToReady = new Gauge({ name: 'gsg_server_start_to_ready_seconds', help: 'Process start to /ready answering 200', labelNames: ['model_version'] as const, registers: [registry] });
  const info = new Gauge({ name: 'gsg_server_model_info', help: 'The loaded model version (value 1)', labelNames: ['model_name', 'model_version', 'sha256'] as const, registers: [registry] });

  let version = NO_VERSION;
  // route -> status -> histogram child
  let durationChildren = new Map<string, Map<number, Histogram.Internal<'route' | 'status' | 'model_version'>>>();
  let negChild = predictions.labels('negative', version);
  let posChild = predictions.labels('positive', version);
  let batchChild = batchSize.labels(version);

  return {
    registry,
    setModel(m) {
      version = m.version;
      durationChildren = new Map();
      negChild = predictions.labels('negative', version);
      posChild = predictions.labels('positive', version);
      batchChild = batchSize.labels(version);
      info.reset();
      info.labels(m.modelName, m.version, m.sha256).set(1);
    },
    observeRequest(route, status, seconds) {
      let byStatus = durationChildren.get(route);
      if (!byStatus) durationChildren.set(route, (byStatus = new Map()));
      let child = byStatus.get(status);
      if (!child) byStatus.set(status, (child = duration.labels(route, String(status), version)));
      child.observe(seconds);
    },
    countPredictions(negative, positive) {
      if (negative > 0) negChild.inc(negative);
      if (positive > 0) posChild.inc(positive);
    },
    observeBatch(texts) {
      batchChild.observe(texts);
    },
    setModelLoadSeconds(seconds) {
      loadSeconds.labels(version).set(seconds);
    },
    setStartToReadySeconds(seconds) {
      startToReady.labels(version).set(seconds);
    },
  };
}
