// The router's Prometheus metrics (names fixed in docs/architecture.md, "Router"). Nothing is observed on the hot
// path: every metric is computed at scrape time from RouterStats and the current state.
import { Counter, Gauge, type Metric, type Registry } from 'prom-client';
import type { RouterControl } from './control.js';
import { COLORS } from './state.js';
import { LATENCY_BOUNDS_SECONDS } from './stats.js';

/** The Prometheus buckets (seconds): a subset of the fine in-process bounds, so they are exact. */
export const EXPORTED_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function registerRouterMetrics(registry: Registry, control: RouterControl): void {
  const { stats } = control;
  new Counter({
    name: 'gsg_router_requests_total',
    help: 'Requests answered by the router, by the color that served them (none: answered by the router itself), version and status class',
    labelNames: ['color', 'model_version', 'status_class'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of stats.statusCounts()) this.inc({ color: c.color, model_version: c.version, status_class: c.statusClass }, c.count);
    },
  });
  new Counter({
    name: 'gsg_router_retries_total',
    help: 'Requests retried on another upstream after a connect failure or reset, by the color that failed',
    labelNames: ['color'],
    registers: [registry],
    collect() {
      const r = stats.retries();
      this.reset();
      for (const color of COLORS) this.inc({ color }, r[color]);
    },
  });
  new Gauge({
    name: 'gsg_router_weight',
    help: 'Traffic weight per color, percent',
    labelNames: ['color'],
    registers: [registry],
    collect() {
      const v = control.view();
      for (const color of COLORS) this.set({ color }, v[color].weight);
    },
  });
  new Gauge({
    name: 'gsg_router_upstream_up',
    help: '1 when the color has an upstream whose /ready answered 200 at the last probe',
    labelNames: ['color'],
    registers: [registry],
    collect() {
      for (const color of COLORS) this.set({ color }, control.health.ready[color] ? 1 : 0);
    },
  });
  new Gauge({
    name: 'gsg_router_upstream_info',
    help: 'The model version each color serves (value 1)',
    labelNames: ['color', 'model_version'],
    registers: [registry],
    collect() {
      this.reset();
      const v = control.view();
      for (const color of COLORS) if (v[color].version) this.set({ color, model_version: v[color].version! }, 1);
    },
  });
  registry.registerMetric(latencyHistogram(control) as unknown as Metric);
}

/**
 * gsg_router_request_duration_seconds{color}: a histogram whose bucket counts come from RouterStats. prom-client
 * cannot load counts into its Histogram, so this is a minimal metric object with the same get() contract.
 */
function latencyHistogram(control: RouterControl) {
  const name = 'gsg_router_request_duration_seconds';
  const help = 'Time from request arrival to the end of the upstream response, by serving color';
  const exportedIndex = EXPORTED_BUCKETS.map((b) => {
    const i = LATENCY_BOUNDS_SECONDS.indexOf(b);
    if (i < 0) throw new Error(`bucket ${b} is not an in-process latency bound`);
    return i;
  });
  return {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    labelNames: ['color'],
    reset() {},
    async get() {
      const snap = control.stats.snapshot();
      const values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }> = [];
      for (const color of COLORS) {
        const h = snap.colors[color].latency;
        const cumulative: number[] = [];
        let acc = 0;
        for (const n of h.counts) cumulative.push((acc += n));
        EXPORTED_BUCKETS.forEach((le, k) => values.push({ metricName: `${name}_bucket`, labels: { le, color }, value: cumulative[exportedIndex[k]!]! }));
        values.push({ metricName: `${name}_bucket`, labels: { le: '+Inf', color }, value: h.count });
        values.push({ metricName: `${name}_sum`, labels: { color }, value: h.sum });
        values.push({ metricName: `${name}_count`, labels: { color }, value: h.count });
      }
      return { name, help, type: 'histogram', aggregator: 'sum', values };
    },
  };
}
