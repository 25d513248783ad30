// Canary analysis: judges one window of a color's traffic (requests, 5xx, latency histogram) against the limits.
// Too little traffic is "inconclusive", never a pass.

/** Cumulative per-color counters as the router reports them; a window is the difference of two snapshots. */
export interface ColorCounters {
  requests: number;
  /** Responses with status >= 500 (including the router's own 502/503/504 for that color). */
  errors: number;
  /** Latency histogram in seconds: `bounds` are ascending upper bounds (last may be Infinity), `counts` per bucket (not cumulative). */
  latency: { bounds: readonly number[]; counts: readonly number[] };
}

export interface AnalysisLimits {
  minRequests: number;
  maxErrorRate: number;
  maxP99Ms: number;
}

export interface WindowMetrics {
  requests: number;
  errors: number;
  errorRate: number;
  /** undefined when the window has no requests. */
  p99Ms: number | undefined;
}

export type Verdict =
  | { kind: 'pass'; metrics: WindowMetrics; reason: string }
  | { kind: 'fail'; metrics: WindowMetrics; reason: string }
  | { kind: 'inconclusive'; metrics: WindowMetrics; reason: string };

export function diffCounters(before: ColorCounters, after: ColorCounters): ColorCounters {
  if (after.latency.bounds.length !== before.latency.bounds.length) throw new Error('latency histograms with different buckets');
  return {
    requests: Math.max(0, after.requests - before.requests),
    errors: Math.max(0, after.errors - before.errors),
    latency: { bounds: after.latency.bounds, counts: after.latency.counts.map((c, i) => Math.max(0, c - (before.latency.counts[i] ?? 0))) },
  };
}

/** Quantile from bucket counts with linear interpolation inside the bucket (as Prometheus' histogram_quantile). */
export function histogramQuantile(q: number, latency: ColorCounters['latency']): number | undefined {
  const total = latency.counts.reduce((a, b) => a + b, 0);
  if (total === 0) return undefined;
  const rank = q * total;
  let cumulative = 0;
  for (let i = 0; i < latency.counts.length; i++) {
    const c = latency.counts[i]!;
    if (cumulative + c >= rank && c > 0) {
      const lower = i === 0 ? 0 : latency.bounds[i - 1]!;
      const upper = latency.bounds[i]!;
      if (!Number.isFinite(upper)) return lower; // open-ended top bucket: the best bound we know
      return lower + (upper - lower) * ((rank - cumulative) / c);
    }
    cumulative += c;
  }
  return latency.bounds.at(-2) ?? 0;
}

export function windowMetrics(window: ColorCounters): WindowMetrics {
  const p99 = histogramQuantile(0.99, window.latency);
  return {
    requests: window.requests,
    errors: window.errors,
    errorRate: window.requests === 0 ? 0 : window.errors / window.requests,
    p99Ms: p99 === undefined ? undefined : p99 * 1000,
  };
}

export function judge(window: ColorCounters, limits: AnalysisLimits): Verdict {
  const metrics = windowMetrics(window);
  if (metrics.requests < limits.minRequests) {
    return { kind: 'inconclusive', metrics, reason: `only ${metrics.requests} requests in the window (need at least ${limits.minRequests})` };
  }
  if (metrics.errorRate > limits.maxErrorRate) {
    return { kind: 'fail', metrics, reason: `error rate ${(metrics.errorRate * 100).toFixed(2)}% over the limit ${(limits.maxErrorRate * 100).toFixed(2)}% (${metrics.errors}/${metrics.requests} requests 5xx)` };
  }
  if (metrics.p99Ms !== undefined && metrics.p99Ms > limits.maxP99Ms) {
    return { kind: 'fail', metrics, reason: `p99 latency ${metrics.p99Ms.toFixed(1)} ms over the limit ${limits.maxP99Ms} ms` };
  }
  return {
    kind: 'pass',
    metrics,
    reason: `${metrics.requests} requests, error rate ${(metrics.errorRate * 100).toFixed(2)}%, p99 ${metrics.p99Ms?.toFixed(1) ?? '-'} ms within limits`,
  };
}
