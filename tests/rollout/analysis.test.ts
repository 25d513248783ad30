// Canary analysis verdicts: a window is judged on requests, 5xx ratio and p99 against the limits;
// too little traffic is inconclusive, never a pass.
import { describe, expect, it } from 'vitest';
import { diffCounters, histogramQuantile, judge, type ColorCounters } from '../../infra/rollout/analysis.js';

const BOUNDS = [0.001, 0.005, 0.01, 0.05, 0.1, Infinity];
const limits = { minRequests: 100, maxErrorRate: 0.01, maxP99Ms: 50 };

function window(requests: number, errors: number, counts: number[]): ColorCounters {
  return { requests, errors, latency: { bounds: BOUNDS, counts } };
}

describe('canary analysis', () => {
  it('passes a window with enough requests, few errors and a low p99', () => {
    const v = judge(window(200, 1, [150, 48, 2, 0, 0, 0]), limits);
    expect(v.kind).toBe('pass');
    expect(v.metrics.errorRate).toBeCloseTo(0.005);
  });

  it('is inconclusive, not a pass, below the minimum request count', () => {
    const v = judge(window(99, 0, [99, 0, 0, 0, 0, 0]), limits);
    expect(v.kind).toBe('inconclusive');
    expect(v.reason).toContain('only 99 requests');
  });

  it('fails on an error rate above the limit', () => {
    const v = judge(window(200, 10, [200, 0, 0, 0, 0, 0]), limits);
    expect(v.kind).toBe('fail');
    expect(v.reason).toMatch(/error rate 5\.00%/);
  });

  it('fails on a p99 above the limit', () => {
    const v = judge(window(200, 0, [190, 0, 0, 0, 10, 0]), limits);
    expect(v.kind).toBe('fail');
    expect(v.reason).toMatch(/p99 latency/);
    expect(v.metrics.p99Ms).toBeGreaterThan(50);
  });

  it('reads the p99 by interpolating inside the bucket, as histogram_quantile does', () => {
    // 100 observations: 98 in (0, 1ms], 2 in (5ms, 10ms] -> rank 99 is half-way through the (5,10] bucket.
    expect(histogramQuantile(0.99, { bounds: BOUNDS, counts: [98, 0, 2, 0, 0, 0] })! * 1000).toBeCloseTo(7.5);
    expect(histogramQuantile(0.99, { bounds: BOUNDS, counts: [0, 0, 0, 0, 0, 0] })).toBeUndefined();
  });

  it('judges only the window: the difference of two cumulative snapshots', () => {
    const before = window(1000, 50, [900, 100, 0, 0, 0, 0]);
    const after = window(1200, 50, [1100, 100, 0, 0, 0, 0]);
    const w = diffCounters(before, after);
    expect(w.requests).toBe(200);
    expect(w.errors).toBe(0);
    expect(judge(w, limits).kind).toBe('pass');
  });
});
