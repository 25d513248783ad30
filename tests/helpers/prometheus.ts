// Test harness for the observability assets: runs a real Prometheus (Debian's binary) on a free port with a
// temporary config/data dir, the project's rules and file-SD model-server targets; queries it over the HTTP API; and
// extracts every Grafana panel query (template variables substituted) so each can be run against it.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { projectRoot } from '../../lib/paths.js';
import { renderProcessConfig } from '../../infra/prometheus-image/config.js';
import { freePort } from '../../infra/runtimes/process-runtime.js';
import { writeTargetsFile, type TargetGroup } from '../../infra/prometheus-image/file-sd.js';
import { describeRequiring } from './requirement.js';

export const PROMETHEUS_BIN = process.env.GSG_PROMETHEUS_BIN ?? 'prometheus';
export const PROMTOOL_BIN = process.env.GSG_PROMTOOL_BIN ?? 'promtool';
export const DASHBOARDS_DIR = join(projectRoot(), 'grafana', 'dashboards');

let missing: string | null | undefined;

/** Why Prometheus cannot run here (binary missing), or null when `prometheus` and `promtool` both answer. */
export function prometheusMissing(): string | null {
  if (missing !== undefined) return missing;
  missing = null;
  for (const bin of [PROMETHEUS_BIN, PROMTOOL_BIN]) {
    try {
      execFileSync(bin, ['--version'], { stdio: 'pipe', timeout: 10_000 });
    } catch {
      missing = `\`${bin} --version\` failed (apt-get install prometheus)`;
    }
  }
  return missing;
}

/** `describe` for suites that need Prometheus/promtool (see describeRequiring). */
export function describePrometheus(name: string, fn: () => void): void {
  describeRequiring(prometheusMissing, name, fn);
}

/** Runs promtool synchronously; output is stdout + stderr (promtool splits its messages between them). */
export function promtool(args: string[]): { code: number; output: string } {
  const r = spawnSync(PROMTOOL_BIN, args, { cwd: projectRoot(), encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

// ---- HTTP API client ----

const Sample = z.object({ metric: z.record(z.string(), z.string()), value: z.tuple([z.number(), z.string()]) });
const Series = z.object({ metric: z.record(z.string(), z.string()), values: z.array(z.tuple([z.number(), z.string()])) });
const QueryData = z.discriminatedUnion('resultType', [
  z.object({ resultType: z.literal('vector'), result: z.array(Sample) }),
  z.object({ resultType: z.literal('matrix'), result: z.array(Series) }),
  z.object({ resultType: z.literal('scalar'), result: z.tuple([z.number(), z.string()]) }),
  z.object({ resultType: z.literal('string'), result: z.tuple([z.number(), z.string()]) }),
]);
export type QueryData = z.infer<typeof QueryData>;
export type InstantSample = z.infer<typeof Sample>;

/** The sample values of a query result as numbers (every point of a matrix), NaN/Inf included. */
export function resultValues(data: QueryData): number[] {
  switch (data.resultType) {
    case 'vector':
      return data.result.map((s) => Number(s.value[1]));
    case 'matrix':
      return data.result.flatMap((s) => s.values.map((v) => Number(v[1])));
    case 'scalar':
      return [Number(data.result[1])];
    case 'string':
      return [];
  }
}

const Target = z.looseObject({ labels: z.record(z.string(), z.string()), health: z.string(), lastError: z.string(), scrapeUrl: z.string() });
export type ActiveTarget = z.infer<typeof Target>;
const Alert = z.looseObject({ labels: z.record(z.string(), z.string()), state: z.string(), value: z.string() });
export type ActiveAlert = z.infer<typeof Alert>;

/** A query Prometheus refused (parse or execution error), with its message. */
export class PrometheusQueryError extends Error {
  constructor(
    readonly expr: string,
    readonly errorType: string,
    message: string,
  ) {
    super(`${errorType}: ${message} (query: ${expr})`);
  }
}

export interface PrometheusClient {
  readonly url: string;
  /** Instant query (at `time`, unix seconds, default now). Throws PrometheusQueryError when Prometheus rejects it. */
  query(expr: string, time?: number): Promise<QueryData>;
  queryRange(expr: string, range: { start: number; end: number; step: number }): Promise<QueryData>;
  /** Convenience: the samples of an instant vector query. */
  vector(expr: string): Promise<InstantSample[]>;
  activeTargets(): Promise<ActiveTarget[]>;
  alerts(): Promise<ActiveAlert[]>;
  /** Resolves once every job in `jobs` has at least that many targets, all of them up unless `anyHealth`. */
  waitForTargets(jobs: Record<string, number>, opts?: { timeoutMs?: number; anyHealth?: boolean }): Promise<ActiveTarget[]>;
  /** Resolves once /-/ready answers 200 (each probe times out after 2 s). */
  waitForReady(timeoutMs?: number): Promise<void>;
  /** Polls an instant vector query until `done(samples)` holds (default: at least one sample). */
  waitFor(expr: string, done?: (samples: InstantSample[]) => boolean, timeoutMs?: number): Promise<InstantSample[]>;
}

async function api(url: string, path: string, params: Record<string, string> = {}): Promise<unknown> {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params),
  });
  const body = (await res.json()) as { status: string; data?: unknown; errorType?: string; error?: string };
  if (body.status !== 'success') throw new PrometheusQueryError(params.query ?? path, body.errorType ?? `HTTP ${res.status}`, body.error ?? '');
  return body.data;
}

async function poll<T>(what: string, timeoutMs: number, attempt: () => Promise<{ done: boolean; value: T; state: string }>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const r = await attempt();
      if (r.done) return r.value;
      last = r.state;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${last}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export function prometheusClient(url: string): PrometheusClient {
  const client: PrometheusClient = {
    url,
    async query(expr, time) {
      return QueryData.parse(await api(url, '/api/v1/query', { query: expr, ...(time ? { time: String(time) } : {}) }));
    },
    async queryRange(expr, r) {
      return QueryData.parse(await api(url, '/api/v1/query_range', { query: expr, start: String(r.start), end: String(r.end), step: String(r.step) }));
    },
    async vector(expr) {
      const data = await client.query(expr);
      if (data.resultType !== 'vector') throw new Error(`${expr}: expected a vector, got a ${data.resultType}`);
      return data.result;
    },
    async activeTargets() {
      const res = await fetch(`${url}/api/v1/targets?state=active`);
      const body = (await res.json()) as { data: { activeTargets: unknown } };
      return z.array(Target).parse(body.data.activeTargets);
    },
    async alerts() {
      const res = await fetch(`${url}/api/v1/alerts`);
      const body = (await res.json()) as { data: { alerts: unknown } };
      return z.array(Alert).parse(body.data.alerts);
    },
    waitForTargets(jobs, { timeoutMs = 30_000, anyHealth = false } = {}) {
      return poll(`targets ${JSON.stringify(jobs)}${anyHealth ? '' : ' up'}`, timeoutMs, async () => {
        const targets = await client.activeTargets();
        const done = Object.entries(jobs).every(([job, n]) => {
          const of = targets.filter((t) => t.labels.job === job);
          return of.length >= n && (anyHealth || of.every((t) => t.health === 'up'));
        });
        return { done, value: targets, state: targets.map((t) => `${t.labels.job}@${t.labels.instance}=${t.health}${t.lastError ? ` (${t.lastError})` : ''}`).join(', ') || 'no targets' };
      });
    },
    waitForReady(timeoutMs = 30_000) {
      return poll(`${url}/-/ready`, timeoutMs, async () => {
        const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2000) });
        return { done: res.status === 200, value: undefined, state: `HTTP ${res.status}` };
      });
    },
    waitFor(expr, done = (s) => s.length > 0, timeoutMs = 30_000) {
      return poll(expr, timeoutMs, async () => {
        const samples = await client.vector(expr);
        return { done: done(samples), value: samples, state: JSON.stringify(samples).slice(0, 300) };
      });
    },
  };
  return client;
}

// ---- a real Prometheus process ----

export interface StartPrometheusOptions {
  /** host:port of the platform's /metrics (router + platform metrics), e.g. the synthetic exporter or `gsg up`. */
  platformTargets: string[];
  /** Model servers, written to the harness' own targets.json (file SD, as the platform does). */
  modelServers?: TargetGroup[];
  /** Or: read model servers from an existing targets directory (e.g. the live platform's). */
  targetsDir?: string;
  /** Scrape and rule evaluation interval (default 1s). */
  interval?: string;
}

export interface RunningPrometheus extends PrometheusClient {
  readonly port: number;
  /** The temporary directory: prometheus.yml, data/, targets/, prometheus.log. */
  readonly dir: string;
  readonly targetsDir: string;
  /** Rewrites targets.json (Prometheus picks it up through file SD). */
  setModelServers(groups: TargetGroup[]): Promise<void>;
  /** The Prometheus log so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

async function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited(child);
  clearTimeout(timer);
}

/**
 * Starts Prometheus with the process-mode config (derived from prometheus/prometheus.yml), the project's rules and
 * a temporary data dir, on a free 127.0.0.1 port; resolves once /-/ready answers. Always `stop()` it.
 */
export async function startPrometheus(opts: StartPrometheusOptions): Promise<RunningPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'gsg-prometheus-'));
  const targetsDir = opts.targetsDir ?? join(dir, 'targets');
  const interval = opts.interval ?? '1s';
  const logFile = join(dir, 'prometheus.log');
  const log = () => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };
  try {
    if (!opts.targetsDir) await writeTargetsFile(targetsDir, opts.modelServers ?? []);
    writeFileSync(join(dir, 'prometheus.yml'), renderProcessConfig({ platformTargets: opts.platformTargets, targetsDir, scrapeInterval: interval, evaluationInterval: interval }));
    // A free port can be taken between probing and binding: retry on a fresh one.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort('127.0.0.1');
      const out = openSync(logFile, 'a');
      const child = spawn(
        PROMETHEUS_BIN,
        [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
        { stdio: ['ignore', out, out] },
      );
      closeSync(out);
      const client = prometheusClient(`http://127.0.0.1:${port}`);
      const exit = exited(child).then(() => 'exited' as const);
      const ready = await Promise.race([client.waitForReady().then(() => 'ready' as const), exit]).catch(async (err: unknown) => {
        await stopChild(child);
        throw new Error(`${(err as Error).message}\n${log().slice(-2000)}`);
      });
      if (ready === 'exited') {
        if (attempt < 3 && /address already in use/.test(log())) continue;
        throw new Error(`prometheus exited with ${child.exitCode}:\n${log().slice(-2000)}`);
      }
      return {
        ...client,
        port,
        dir,
        targetsDir,
        log,
        async setModelServers(groups) {
          await writeTargetsFile(targetsDir, groups);
        },
        async stop() {
          await stopChild(child);
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

// ---- Grafana dashboards ----

export interface DashboardQuery {
  dashboard: string;
  panel: string;
  refId: string;
  /** The query with template variables and Grafana's built-in intervals substituted. */
  expr: string;
  /** As written in the dashboard. */
  raw: string;
  /** Grafana runs it as a range query (time series panels) rather than only at the current instant. */
  range: boolean;
}

export interface Dashboard {
  file: string;
  uid: string;
  title: string;
  panels: Panel[];
  templating?: { list: TemplateVariable[] };
  [key: string]: unknown;
}
export interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  targets?: { refId: string; expr?: string; datasource?: { type?: string; uid?: string }; [key: string]: unknown }[];
  panels?: Panel[];
  gridPos?: { h: number; w: number; x: number; y: number };
  [key: string]: unknown;
}
export interface TemplateVariable {
  name: string;
  type: string;
  query?: string | { query?: string };
  includeAll?: boolean;
  allValue?: string;
  current?: { value?: string | string[] };
  options?: { value: string }[];
  [key: string]: unknown;
}

/** Every dashboard JSON in grafana/dashboards, parsed. */
export function loadDashboards(dir = DASHBOARDS_DIR): Dashboard[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ ...(JSON.parse(readFileSync(join(dir, f), 'utf8')) as Dashboard), file: f }));
}

/** Every panel, rows' nested panels included (rows themselves excluded). */
export function allPanels(d: Dashboard): Panel[] {
  return d.panels.flatMap((p) => (p.type === 'row' ? (p.panels ?? []) : [p]));
}

/** Values Grafana gives its built-in variables; `$__rate_interval` ≥ 4 scrape intervals. */
export const GRAFANA_BUILTINS: Record<string, string> = {
  __rate_interval: '1m',
  __interval: '15s',
  __interval_ms: '15000',
  __range: '1h',
  __range_s: '3600',
  __range_ms: '3600000',
};

/** What each dashboard variable becomes: its "All" value (a regex) when it has one, else its current/first value. */
function variableValue(v: TemplateVariable): string {
  if (v.includeAll) return v.allValue ?? '.*';
  const cur = v.current?.value;
  const value = Array.isArray(cur) ? cur[0] : cur;
  return value ?? v.options?.[0]?.value ?? '';
}

/** Substitutes `$name`, `${name}` and `[[name]]` (longest names first, so `$__range_s` is not read as `$__range`). */
function substituteVariables(expr: string, values: Record<string, string>): string {
  const names = Object.keys(values).sort((a, b) => b.length - a.length);
  let out = expr;
  for (const name of names) {
    const value = values[name]!;
    out = out.replaceAll(`\${${name}}`, value).replaceAll(`[[${name}]]`, value);
    out = out.replace(new RegExp(`\\$${name}(?![A-Za-z0-9_])`, 'g'), () => value);
  }
  return out;
}

/** Every `targets[].expr` of every panel of every dashboard, with template variables and built-ins substituted. */
export function dashboardQueries(opts: { dir?: string; values?: Record<string, string> } = {}): DashboardQuery[] {
  const queries: DashboardQuery[] = [];
  for (const d of loadDashboards(opts.dir)) {
    const values: Record<string, string> = { ...GRAFANA_BUILTINS };
    for (const v of d.templating?.list ?? []) values[v.name] = variableValue(v);
    Object.assign(values, opts.values);
    for (const p of allPanels(d)) {
      for (const t of p.targets ?? []) {
        if (!t.expr) continue;
        queries.push({ dashboard: d.title, panel: p.title, refId: t.refId, raw: t.expr, expr: substituteVariables(t.expr, values), range: t.range !== false && t.instant !== true });
      }
    }
  }
  return queries;
}

/** The `label_values(metric, label)` query variables, as PromQL that returns one series per value. */
export function variableQueries(opts: { dir?: string } = {}): { dashboard: string; variable: string; raw: string; expr: string }[] {
  const out: { dashboard: string; variable: string; raw: string; expr: string }[] = [];
  for (const d of loadDashboards(opts.dir)) {
    for (const v of d.templating?.list ?? []) {
      if (v.type !== 'query') continue;
      const raw = typeof v.query === 'string' ? v.query : (v.query?.query ?? '');
      const m = /^label_values\(\s*(.+?)\s*,\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)$/.exec(raw);
      if (!m) throw new Error(`${d.file}: variable ${v.name}: unsupported query "${raw}" (expected label_values(metric, label))`);
      out.push({ dashboard: d.title, variable: v.name, raw, expr: `count by (${m[2]}) (${m[1]})` });
    }
  }
  return out;
}

/**
 * Runs a dashboard query the way Grafana does (instant, plus a range query over the last `rangeSeconds` for
 * time-series panels) and returns, per run, why it has no usable data — an empty list when every run returned at
 * least one finite value. Throws PrometheusQueryError when Prometheus rejects the query (it does not parse).
 */
export async function missingQueryData(prom: PrometheusClient, q: Pick<DashboardQuery, 'expr' | 'range'>, rangeSeconds = 10): Promise<string[]> {
  const now = Date.now() / 1000;
  const runs = [await prom.query(q.expr), ...(q.range ? [await prom.queryRange(q.expr, { start: now - rangeSeconds, end: now, step: 1 })] : [])];
  const problems: string[] = [];
  for (const data of runs) {
    const values = resultValues(data);
    if (values.length === 0) problems.push(`no ${data.resultType} data for ${q.expr}`);
    else if (!values.some(Number.isFinite)) problems.push(`only NaN/Inf (${data.resultType}) for ${q.expr}: ${values.join(', ')}`);
  }
  return problems;
}
