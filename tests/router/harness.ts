// Test harness for the router suites: a real router on 127.0.0.1 (free port) with captured JSON logs, plus a
// small fetch wrapper. Everything started here is closed by the returned close().
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { Writable } from 'node:stream';
import { createLogger } from '../../lib/log.js';
import { createRouter, type RouterHandle, type RouterOptions } from '../../router/router.js';
import { memoryStateStore } from '../../router/state.js';

export interface LogLine {
  event?: string;
  [key: string]: unknown;
}

export interface RouterUnderTest {
  router: RouterHandle;
  url: string;
  logs: LogLine[];
  close(): Promise<void>;
}

export async function startRouter(opts: Partial<RouterOptions> = {}): Promise<RouterUnderTest> {
  const logs: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logs.push(JSON.parse(line) as LogLine);
      cb();
    },
  });
  const router = await createRouter({
    state: memoryStateStore(),
    logger: createLogger({ name: 'router-test', level: 'info', destination: sink }),
    probeIntervalMs: 100,
    graceMs: 1000,
    ...opts,
  });
  const url = await router.listen(0, '127.0.0.1');
  return { router, url, logs, close: () => router.close() };
}

export interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

/** One request; the body is parsed as JSON when the response says so. */
export async function call(url: string, init: { method?: string; headers?: Record<string, string>; json?: unknown; body?: string } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers };
  let body = init.body;
  if (init.json !== undefined) {
    body = JSON.stringify(init.json);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(url, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, body });
  const text = await res.text();
  const parsed = res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
  return { status: res.status, headers: res.headers, body: parsed };
}

export const predict = (base: string, headers: Record<string, string> = {}) => call(`${base}/predict`, { json: { texts: ['buen gimnasio'] }, headers });

/** Waits until cond() holds (polling), for state that changes asynchronously such as a health probe. */
export async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface LoadResult {
  ok: number;
  /** Every answer that was not 200 (or failed `inspect`), and every request error, as "<status>: <detail>" / "error: <message>". */
  failures: string[];
  served: Record<string, number>;
}

export interface LoadOptions {
  connections?: number;
  /** Stop after this many requests (default: run until stop()). */
  total?: number;
  /** Extra check of a 200 answer; a returned string counts as a failure. */
  inspect?: (answer: { headers: IncomingHttpHeaders; body: string }) => string | undefined;
}

/**
 * Load through keep-alive connections: `connections` clients sending single-text POST /predict back to back until
 * stop() or `total` requests, counting answers by x-served-by.
 */
export function startLoad(base: string, opts: LoadOptions = {}): { stop(): Promise<LoadResult>; done: Promise<LoadResult>; result: LoadResult } {
  const connections = opts.connections ?? 16;
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const result: LoadResult = { ok: 0, failures: [], served: {} };
  const body = JSON.stringify({ texts: ['Las máquinas están bien pero el vestuario está sucio'] });
  let running = true;
  let left = opts.total ?? Infinity;
  const one = () =>
    new Promise<void>((resolve) => {
      const req = request(`${base}/predict`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const color = String(res.headers['x-served-by'] ?? 'none');
          result.served[color] = (result.served[color] ?? 0) + 1;
          const text = Buffer.concat(chunks).toString('utf8');
          const problem = res.statusCode === 200 ? opts.inspect?.({ headers: res.headers, body: text }) : `${res.statusCode}: ${text.slice(0, 200)}`;
          if (problem === undefined) result.ok++;
          else result.failures.push(problem);
          resolve();
        });
        res.on('error', (err) => {
          result.failures.push(`error: ${err.message}`);
          resolve();
        });
      });
      req.on('error', (err) => {
        result.failures.push(`error: ${err.message}`);
        resolve();
      });
      req.end(body);
    });
  const worker = async () => {
    while (running && left-- > 0) await one();
  };
  const done = Promise.all(Array.from({ length: connections }, worker)).then(() => {
    agent.destroy();
    return result;
  });
  return {
    result,
    done,
    stop: () => {
      running = false;
      return done;
    },
  };
}
