// RouterStats: cheap in-process counters the hot path bumps (requests by color/version/status class, a fine
// latency histogram per color, retries). /metrics reads them at scrape time, and the rollout controller diffs two
// snapshot()s to judge an analysis window (error rate, p99) without scraping.
import type { Color } from '../infra/runtime.js';

/** `none`: requests the router answered itself before any upstream was tried (no ready color, bad pin, 413). */
export type StatsColor = Color | 'none';
export type StatusClass = '1xx' | '2xx' | '3xx' | '4xx' | '5xx';
const STATUS_CLASSES: readonly StatusClass[] = ['1xx', '2xx', '3xx', '4xx', '5xx'];

// Upper bounds in seconds, 22 per decade from 0.1 ms to 100 s (neighbours at most 17% apart), so a p99 read from
// the histogram is within a few percent. Built from decimal strings so 0.05 is exactly the literal 0.05.
const MANTISSAS = ['1', '1.1', '1.2', '1.3', '1.4', '1.5', '1.6', '1.8', '2', '2.2', '2.5', '2.8', '3', '3.5', '4', '4.5', '5', '5.5', '6', '7', '8', '9'];
export const LATENCY_BOUNDS_SECONDS: readonly number[] = [
  ...[-4, -3, -2, -1, 0, 1].flatMap((exp) => MANTISSAS.map((m) => Number(`${m}e${exp}`))),
  100,
];

/** Non-cumulative bucket counts: counts[i] is observations <= bounds[i] (and > bounds[i-1]); the last is > the last bound. */
export interface LatencyHistogram {
  bounds: readonly number[];
  counts: number[];
  sum: number;
  count: number;
}

export interface ColorStats {
  /** The version the color serves now (counts are cumulative per color, across versions). */
  version: string | null;
  requests: number;
  /** Responses with a 5xx status (the upstream's or the router's 502/504). */
  errors5xx: number;
  retries: number;
  latency: LatencyHistogram;
}

export interface StatsSnapshot {
  /** Date.now() when the snapshot was taken. */
  at: number;
  colors: Record<Color, ColorStats>;
}

/** One color+version's counters; the hot path keeps a reference and bumps `byClass[status / 100 | 0]`. */
export interface CountEntry {
  readonly color: StatsColor;
  readonly version: string;
  /** Index 1..5 = status class; 0 = anything else. */
  readonly byClass: Float64Array;
}

export interface RouterStats {
  entry(color: StatsColor, version: string | null): CountEntry;
  /** Counts one response; latency only for responses that went to an upstream. */
  record(entry: CountEntry, status: number, seconds?: number): void;
  retry(color: Color): void;
  setVersion(color: Color, version: string | null): void;
  snapshot(): StatsSnapshot;
  /** Every (color, version, status class) count, for /metrics. */
  statusCounts(): Array<{ color: StatsColor; version: string; statusClass: StatusClass; count: number }>;
  retries(): Record<Color, number>;
}

interface ColorLatency {
  counts: Float64Array;
  sum: number;
  count: number;
}

export function createRouterStats(): RouterStats {
  const entries = new Map<string, CountEntry>();
  const latency: Record<Color, ColorLatency> = { blue: emptyLatency(), green: emptyLatency() };
  const retries: Record<Color, number> = { blue: 0, green: 0 };
  const versions: Record<Color, string | null> = { blue: null, green: null };

  return {
    entry(color, version) {
      const v = version ?? '';
      const key = `${color}\u0000${v}`;
      let e = entries.get(key);
      if (!e) {
        e = { color, version: v, byClass: new Float64Array(6) };
        entries.set(key, e);
      }
      return e;
    },
    record(entry, status, seconds) {
      const cls = (status / 100) | 0;
      entry.byClass[cls >= 1 && cls <= 5 ? cls : 0]!++;
      if (seconds !== undefined && entry.color !== 'none') {
        const h = latency[entry.color];
        h.counts[bucketIndex(seconds)]!++;
        h.sum += seconds;
        h.count++;
      }
    },
    retry(color) {
      retries[color]++;
    },
    setVersion(color, version) {
      versions[color] = version;
    },
    snapshot() {
      const colors = {} as Record<Color, ColorStats>;
      for (const color of ['blue', 'green'] as const) {
        let requests = 0;
        let errors5xx = 0;
        for (const e of entries.values()) {
          if (e.color !== color) continue;
          for (const n of e.byClass) requests += n;
          errors5xx += e.byClass[5]!;
        }
        const h = latency[color];
        colors[color] = {
          version: versions[color],
          requests,
          errors5xx,
          retries: retries[color],
          latency: { bounds: LATENCY_BOUNDS_SECONDS, counts: Array.from(h.counts), sum: h.sum, count: h.count },
        };
      }
      return { at: Date.now(), colors };
    },
    statusCounts() {
      const out: ReturnType<RouterStats['statusCounts']> = [];
      for (const e of entries.values()) {
        STATUS_CLASSES.forEach((statusClass, i) => {
          const count = e.byClass[i + 1]!;
          if (count > 0) out.push({ color: e.color, version: e.version, statusClass, count });
        });
      }
      return out;
    },
    retries: () => ({ ...retries }),
  };
}

function emptyLatency(): ColorLatency {
  return { counts: new Float64Array(LATENCY_BOUNDS_SECONDS.length + 1), sum: 0, count: 0 };
}

/** Index of the first bound >= seconds (binary search), or bounds.length for the overflow bucket. */
function bucketIndex(seconds: number): number {
  let lo = 0;
  let hi = LATENCY_BOUNDS_SECONDS.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (LATENCY_BOUNDS_SECONDS[mid]! < seconds) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
