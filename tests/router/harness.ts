// Test harness for the router suites: a real router on 127.0.0.1 (free port) with captured JSON logs, plus a
// small fetch wrapper. Everything started here is closed by the returned close().
import { createRouter, type RouterHandle, type RouterOptions } from '../../router/router.js';
import { memoryStateStore } from '../../router/state.js';
import { captureLogger, type LogLine } from '../helpers/logs.js';

export interface RouterUnderTest {
  router: RouterHandle;
  url: string;
  logs: LogLine[];
  close(): Promise<void>;
}

export async function startRouter(opts: Partial<RouterOptions> = {}): Promise<RouterUnderTest> {
  const { lines: logs, logger } = captureLogger('router-test');
  const router = await createRouter({
    state: memoryStateStore(),
    logger,
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
