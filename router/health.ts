// UpstreamHealth: whether each color's upstream is ready. `/ready` is probed every second with a short timeout
// on a dedicated keep-alive agent (so probes never queue behind traffic); the proxy marks a color down at once
// when a connection to it is refused, and the next successful probe brings it back.
import { Agent, get } from 'node:http';
import type { Logger } from '../lib/log.js';
import type { Color } from '../infra/runtime.js';
import type { Eligibility } from './traffic-split.js';

export interface UpstreamHealth {
  /** Live readiness per color, read by the hot path (do not copy). */
  readonly ready: Eligibility;
  /** Starts watching a new upstream for the color (or none): readiness resets, and the returned promise settles after the first probe. */
  watch(color: Color, target: { url: string; version: string } | null): Promise<void>;
  /** Passive check from the proxy: a connection to this url was refused. */
  markDown(color: Color, url: string, reason: string): void;
  close(): void;
}

export interface HealthOptions {
  logger: Logger;
  intervalMs?: number;
  timeoutMs?: number;
}

interface Watched {
  url: string;
  version: string;
  agent: Agent;
  inFlight: Promise<void> | undefined;
  /** The model_version the upstream reported last (for the mismatch warning, logged once per value). */
  reportedVersion: string | undefined;
  /** Probes in a row that got no answer (timeout, reset): a ready color is marked down at the second one. */
  unanswered: number;
}

/** A busy upstream may miss one probe deadline without losing its traffic; a 503 (draining) or a refused connection counts at once. */
const UNANSWERED_PROBES_BEFORE_DOWN = 2;

export function createUpstreamHealth(opts: HealthOptions): UpstreamHealth {
  const intervalMs = opts.intervalMs ?? 1000;
  const timeoutMs = opts.timeoutMs ?? 500;
  const ready: Record<Color, boolean> = { blue: false, green: false };
  const watched: Record<Color, Watched | null> = { blue: null, green: null };
  const log = opts.logger;

  const set = (color: Color, value: boolean, url: string, reason: string) => {
    if (ready[color] === value) return;
    ready[color] = value;
    log[value ? 'info' : 'warn']({ event: value ? 'router.upstream_ready' : 'router.upstream_not_ready', color, url, reason }, `${color} ${value ? 'ready' : 'not ready'}`);
  };

  const probe = (color: Color, w: Watched): Promise<void> => {
    if (w.inFlight) return w.inFlight;
    w.inFlight = new Promise<void>((resolve) => {
      let settled = false;
      const done = (ok: boolean, reason: string, answered = true) => {
        if (settled) return;
        settled = true;
        w.inFlight = undefined;
        w.unanswered = ok || answered ? 0 : w.unanswered + 1;
        const tolerated = !ok && !answered && ready[color] && w.unanswered < UNANSWERED_PROBES_BEFORE_DOWN && !/ECONNREFUSED/.test(reason);
        if (watched[color] === w && !tolerated) set(color, ok, w.url, reason);
        resolve();
      };
      const req = get(`${w.url}/ready`, { agent: w.agent, timeout: timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          if (res.statusCode === 200) checkVersion(color, w, Buffer.concat(chunks).toString('utf8'));
          done(res.statusCode === 200, `GET /ready answered ${res.statusCode}`);
        });
        res.on('error', (err) => done(false, err.message, false));
      });
      req.on('timeout', () => req.destroy(new Error(`GET /ready timed out after ${timeoutMs} ms`)));
      req.on('error', (err) => done(false, err.message, false));
    });
    return w.inFlight;
  };

  const checkVersion = (color: Color, w: Watched, body: string) => {
    let reported: unknown;
    try {
      reported = (JSON.parse(body) as { model_version?: unknown }).model_version;
    } catch {
      return;
    }
    if (typeof reported !== 'string' || reported === w.reportedVersion) return;
    w.reportedVersion = reported;
    if (reported !== w.version) {
      log.warn({ event: 'router.version_mismatch', color, url: w.url, configured: w.version, reported }, `${color} is configured as ${w.version} but reports ${reported}`);
    }
  };

  const timer = setInterval(() => {
    for (const color of ['blue', 'green'] as const) {
      const w = watched[color];
      if (w) void probe(color, w);
    }
  }, intervalMs);
  timer.unref();

  return {
    ready,
    watch(color, target) {
      const old = watched[color];
      if (old && target && old.url === target.url) {
        old.version = target.version;
        old.reportedVersion = undefined;
        return probe(color, old);
      }
      old?.agent.destroy();
      if (!target) {
        watched[color] = null;
        set(color, false, old?.url ?? '', 'upstream removed');
        return Promise.resolve();
      }
      const w: Watched = { ...target, agent: new Agent({ keepAlive: true, maxSockets: 1 }), inFlight: undefined, reportedVersion: undefined, unanswered: 0 };
      watched[color] = w;
      set(color, false, w.url, 'new upstream, not probed yet');
      return probe(color, w);
    },
    markDown(color, url, reason) {
      if (watched[color]?.url === url) set(color, false, url, reason);
    },
    close() {
      clearInterval(timer);
      for (const color of ['blue', 'green'] as const) watched[color]?.agent.destroy();
    },
  };
}
