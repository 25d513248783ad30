// The router's traffic path, in front of real HTTP upstreams on 127.0.0.1: weighted split, headers, pinning,
// stickiness, health, pass-through of upstream errors, body limit, retry, 502/503/504.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeModelServer, type FakeModelServer } from '../helpers/fake-model-server.js';
import { startLoad } from '../helpers/load.js';
import { until } from '../helpers/wait.js';
import { call, predict, startRouter, type RouterUnderTest } from './harness.js';

let blue: FakeModelServer;
let green: FakeModelServer;
let rt: RouterUnderTest;

beforeEach(async () => {
  blue = await startFakeModelServer({ version: '2026-01-01.001' });
  green = await startFakeModelServer({ version: '2026-02-01.001' });
  rt = await startRouter({ bodyLimitBytes: 64 * 1024 });
  await rt.router.setUpstream('blue', { url: blue.url, version: blue.version });
  await rt.router.setUpstream('green', { url: green.url, version: green.version });
  await rt.router.setWeights({ blue: 90, green: 10 });
});

afterEach(async () => {
  await rt.close();
  await blue.close();
  await green.close();
});

describe('weighted traffic', () => {
  it('splits 2,000 predictions 90/10 within ±3%', async () => {
    const { failures, served } = await startLoad(rt.url, { total: 2000 }).done;
    expect(failures).toEqual([]);
    expect(served.blue! + served.green!).toBe(2000);
    expect(Math.abs(served.green! / 2000 - 0.1)).toBeLessThanOrEqual(0.03);
    expect(blue.predictions + green.predictions).toBe(2000);
  });

  it('labels every response with the serving color, its version and a request id', async () => {
    const a = await predict(rt.url, { 'x-gsg-color': 'green' });
    expect(a.headers.get('x-served-by')).toBe('green');
    expect(a.headers.get('x-model-version')).toBe('2026-02-01.001');
    expect(a.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(green.lastHeaders?.['x-request-id']).toBe(a.headers.get('x-request-id'));
    expect(a.body[0].model_version).toBe('2026-02-01.001');
    expect(a.headers.get('date')?.match(/GMT/g)).toHaveLength(1); // the upstream's Date, not a second one
  });

  it('passes a client x-request-id through to the upstream and back', async () => {
    const a = await predict(rt.url, { 'x-request-id': 'req-abc-123' });
    expect(a.headers.get('x-request-id')).toBe('req-abc-123');
    expect((blue.lastHeaders ?? green.lastHeaders)?.['x-request-id']).toBe('req-abc-123');
  });

  it('proxies GET /model/info and POST /predict/explain, and passes /openapi.json through', async () => {
    const info = await call(`${rt.url}/model/info`, { headers: { 'x-gsg-color': 'blue' } });
    expect(info.status).toBe(200);
    expect(info.body.version).toBe('2026-01-01.001');
    const explain = await call(`${rt.url}/predict/explain`, { json: { texts: ['x', 'y'] }, headers: { 'x-gsg-color': 'green' } });
    expect(explain.status).toBe(200);
    expect(explain.body).toHaveLength(2);
    const openapi = await call(`${rt.url}/openapi.json`);
    expect(openapi.body.path).toBe('/openapi.json');
  });
});

describe('pinning and sessions', () => {
  it('serves a pinned request from that color even when it has weight 0', async () => {
    await rt.router.setWeights({ blue: 100, green: 0 });
    for (let i = 0; i < 5; i++) expect((await predict(rt.url, { 'x-gsg-color': 'green' })).headers.get('x-served-by')).toBe('green');
  });

  it('answers 503 naming the pinned color when it is not ready, without serving the other color', async () => {
    green.ready = false;
    await until(() => !rt.router.getState().green.ready, 'green marked not ready');
    const before = blue.predictions;
    const a = await predict(rt.url, { 'x-gsg-color': 'green' });
    expect(a.status).toBe(503);
    expect(a.body.detail).toMatch(/green is not ready/);
    expect(blue.predictions).toBe(before);
  });

  it('rejects an unknown pin with 400 naming the header', async () => {
    const a = await predict(rt.url, { 'x-gsg-color': 'red' });
    expect(a.status).toBe(400);
    expect(a.body.detail).toMatch(/^x-gsg-color: /);
  });

  it('keeps a session on one color across requests', async () => {
    await rt.router.setWeights({ blue: 50, green: 50 });
    for (const session of ['alice', 'bob', 'carol', 'dave']) {
      const colors = new Set<string | null>();
      for (let i = 0; i < 10; i++) colors.add((await predict(rt.url, { 'x-gsg-session': session })).headers.get('x-served-by'));
      expect(colors.size).toBe(1);
    }
  });
});

describe('sessions when the weight moves', () => {
  it('moves only the sessions of the points that moved, all towards the color that gained', async () => {
    const sessions = Array.from({ length: 400 }, (_, i) => `visitor-${i}`);
    const colorsOf = async () => {
      const out: string[] = [];
      for (let i = 0; i < sessions.length; i += 50) {
        const batch = await Promise.all(sessions.slice(i, i + 50).map((s) => predict(rt.url, { 'x-gsg-session': s })));
        out.push(...batch.map((a) => a.headers.get('x-served-by')!));
      }
      return out;
    };
    const before = await colorsOf();
    expect(await colorsOf()).toEqual(before); // sticky at a given weight
    await rt.router.setWeights({ blue: 70, green: 30 });
    const after = await colorsOf();
    const moved = sessions.filter((_, i) => before[i] !== after[i]);
    expect(moved.every((s) => before[sessions.indexOf(s)] === 'blue')).toBe(true);
    expect(moved.length / sessions.length).toBeGreaterThan(0.13);
    expect(moved.length / sessions.length).toBeLessThan(0.27);
  });
});

describe('shutdown', () => {
  it('answers the requests in flight when it closes, then refuses new connections', async () => {
    blue.delayMs = 400;
    green.delayMs = 400;
    const inFlight = Array.from({ length: 8 }, () => predict(rt.url));
    await until(() => blue.predictions + green.predictions === 8, 'requests reached the upstreams');
    const closed = rt.close();
    expect((await Promise.all(inFlight)).map((a) => a.status)).toEqual(Array(8).fill(200));
    await closed;
    await expect(fetch(`${rt.url}/health`)).rejects.toThrow();
  });
});

describe('health', () => {
  it('sends nothing to a weighted color that is not ready', async () => {
    green.ready = false;
    await until(() => !rt.router.getState().green.ready, 'green marked not ready');
    const before = green.predictions;
    for (let i = 0; i < 30; i++) expect((await predict(rt.url)).headers.get('x-served-by')).toBe('blue');
    expect(green.predictions).toBe(before);
    green.ready = true;
    await until(() => rt.router.getState().green.ready, 'green ready again');
  });

  it('answers 503 with a detail when no weighted color is ready, and its own /ready says so', async () => {
    blue.ready = false;
    green.ready = false;
    await until(() => !rt.router.isReady(), 'router not ready');
    const a = await predict(rt.url);
    expect(a.status).toBe(503);
    expect(a.body.detail).toMatch(/no ready upstream/);
    expect((await call(`${rt.url}/ready`)).status).toBe(503);
    expect((await call(`${rt.url}/health`)).body).toEqual({ status: 'ok' });
  });
});

describe('upstream answers and failures', () => {
  it('passes model-server 4xx and 5xx through untouched', async () => {
    blue.status = 422;
    green.status = 422;
    const bad = await call(`${rt.url}/predict`, { json: { nope: 1 } });
    expect(bad.status).toBe(422);
    expect(bad.body).toEqual({ detail: 'fake status 422' });
    blue.status = 500;
    const err = await predict(rt.url, { 'x-gsg-color': 'blue' });
    expect(err.status).toBe(500);
    expect(err.body).toEqual({ detail: 'fake status 500' });
    expect(err.headers.get('x-served-by')).toBe('blue');
  });

  it('passes malformed JSON to the model server, which answers for it', async () => {
    const a = await call(`${rt.url}/predict`, { body: '{"texts": [', headers: { 'content-type': 'application/json' } });
    expect(a.status).toBe(400);
    expect(a.body.detail).toBe('Invalid JSON body');
  });

  it('answers 413 JSON for a body over the limit without contacting an upstream', async () => {
    const before = blue.predictions + green.predictions;
    const a = await call(`${rt.url}/predict`, { json: { texts: ['x'.repeat(70 * 1024)] } });
    expect(a.status).toBe(413);
    expect(a.body.detail).toMatch(/65536 bytes/);
    expect(blue.predictions + green.predictions).toBe(before);
  });

  it('retries a request reset before any response byte once on the other color', async () => {
    blue.resetNext = 1;
    const a = await predict(rt.url); // the first pick of a fresh 90/10 round is blue
    expect(a.status).toBe(200);
    expect(a.headers.get('x-served-by')).toBe('green');
    expect(blue.predictions).toBe(1);
    expect(rt.router.stats().colors.blue.retries).toBe(1);
    const metrics = await call(`${rt.url}/metrics`);
    expect(metrics.body).toMatch(/gsg_router_retries_total\{color="blue"\} 1/);
  });

  it('does not move a pinned request: 502 when its color resets the connection', async () => {
    green.resetNext = 2;
    const a = await predict(rt.url, { 'x-gsg-color': 'green' });
    expect(a.status).toBe(502);
    expect(a.body.detail).toMatch(/green/);
    expect(blue.predictions).toBe(0);
  });

  it('answers 502 JSON, not a truncated answer, when the upstream breaks off mid-response', async () => {
    blue.breakOffNext = 1;
    const a = await predict(rt.url, { 'x-gsg-color': 'blue' });
    expect(a.status).toBe(502);
    expect(a.body.detail).toMatch(/blue .* broke off its response/);
    expect((await predict(rt.url, { 'x-gsg-color': 'blue' })).status).toBe(200);
  });

  it('answers 502 JSON when both colors fail', async () => {
    blue.resetNext = 5;
    green.resetNext = 5;
    const a = await predict(rt.url);
    expect(a.status).toBe(502);
    expect(a.body.detail).toMatch(/failed before answering/);
  });

  it('answers 504 JSON when the upstream does not answer in time', async () => {
    const quick = await startRouter({ upstreamTimeoutMs: 300 });
    try {
      await quick.router.setUpstream('blue', { url: blue.url, version: blue.version });
      blue.delayMs = 3000;
      const a = await predict(quick.url);
      expect(a.status).toBe(504);
      expect(a.body.detail).toMatch(/did not answer within 300 ms/);
    } finally {
      await quick.close();
    }
  });

  it('retries on the other color when a connection is refused and stops sending to the dead color', async () => {
    await green.kill();
    await rt.router.setWeights({ blue: 50, green: 50 });
    const answers = await Promise.all(Array.from({ length: 20 }, () => predict(rt.url)));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(rt.router.getState().green.ready).toBe(false);
  });
});

describe('observability', () => {
  it('counts requests, 5xx and latency per color in stats() and /metrics', async () => {
    for (let i = 0; i < 9; i++) await predict(rt.url, { 'x-gsg-color': 'blue' });
    green.status = 500;
    await predict(rt.url, { 'x-gsg-color': 'green' });
    const s = rt.router.stats();
    expect(s.colors.blue).toMatchObject({ version: '2026-01-01.001', requests: 9, errors5xx: 0 });
    expect(s.colors.green).toMatchObject({ requests: 1, errors5xx: 1 });
    expect(s.colors.blue.latency.count).toBe(9);
    const m = (await call(`${rt.url}/metrics`)).body as string;
    expect(m).toContain('gsg_router_requests_total{color="blue",model_version="2026-01-01.001",status_class="2xx"} 9');
    expect(m).toContain('gsg_router_requests_total{color="green",model_version="2026-02-01.001",status_class="5xx"} 1');
    expect(m).toContain('gsg_router_request_duration_seconds_count{color="blue"} 9');
    expect(m).toContain('gsg_router_request_duration_seconds_bucket{le="+Inf",color="blue"} 9');
    expect(m).toContain('gsg_router_weight{color="blue"} 90');
    expect(m).toContain('gsg_router_upstream_up{color="green"} 1');
    expect(m).toContain('gsg_router_upstream_info{color="green",model_version="2026-02-01.001"} 1');
  });
});
