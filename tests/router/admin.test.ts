// The admin API: Bearer auth, weights/upstreams/switch with validation (422), If-Match (412), change logs with
// old and new values, loopback-only mode without a token, and state persisted and restored across a restart.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fileStateStore } from '../../router/state.js';
import { startFakeModelServer, type FakeModelServer } from '../helpers/fake-model-server.js';
import { call, predict, startRouter, type RouterUnderTest } from './harness.js';

const TOKEN = 'test-admin-token-5f1c2e';
const auth = { authorization: `Bearer ${TOKEN}` };

let blue: FakeModelServer;
let green: FakeModelServer;

beforeAll(async () => {
  blue = await startFakeModelServer({ version: '2026-01-01.001' });
  green = await startFakeModelServer({ version: '2026-02-01.001' });
});
afterAll(async () => {
  await blue.close();
  await green.close();
});

describe('admin API with a token', () => {
  let rt: RouterUnderTest;
  const admin = (path: string, init: Parameters<typeof call>[1] = {}) => call(`${rt.url}/admin${path}`, { ...init, headers: { ...auth, ...init.headers } });
  const putUpstream = (color: string, body: unknown, headers: Record<string, string> = {}) => admin(`/upstreams/${color}`, { method: 'PUT', json: body, headers });
  const putWeights = (body: unknown, headers: Record<string, string> = {}) => admin('/weights', { method: 'PUT', json: body, headers });

  beforeEach(async () => {
    rt = await startRouter({ adminToken: TOKEN });
  });
  afterEach(() => rt.close());

  it('answers 401 JSON without an Authorization header or with a wrong token', async () => {
    for (const headers of [{} as Record<string, string>, { authorization: 'Bearer wrong-token' }, { authorization: `Basic ${TOKEN}` }, { authorization: `Bearer ${TOKEN}x` }]) {
      const a = await call(`${rt.url}/admin/state`, { headers });
      expect(a.status).toBe(401);
      expect(a.body.detail).toMatch(/admin token/);
    }
    const w = await call(`${rt.url}/admin/weights`, { method: 'PUT', json: { blue: 0, green: 100 } });
    expect(w.status).toBe(401);
    expect(rt.router.getState().blue.weight).toBe(100);
  });

  it('shows both colors and the generation in GET /admin/state', async () => {
    const a = await admin('/state');
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({
      generation: 0,
      blue: { url: null, version: null, weight: 100, ready: false },
      green: { url: null, version: null, weight: 0, ready: false },
    });
    expect(a.headers.get('etag')).toBe('"0"');
  });

  it('sets an upstream, probes it and logs the old and new values', async () => {
    const a = await putUpstream('blue', { url: blue.url, version: blue.version });
    expect(a.status).toBe(200);
    expect(a.body.blue).toEqual({ url: blue.url, version: blue.version, weight: 100, ready: true });
    expect(a.body.generation).toBe(1);
    const line = rt.logs.find((l) => l.event === 'router.upstream_changed');
    expect(line).toMatchObject({ color: 'blue', old: { url: null, version: null }, new: { url: blue.url, version: blue.version }, generation: 1 });
    expect((await predict(rt.url)).headers.get('x-model-version')).toBe(blue.version);
  });

  it('sets weights, serves them and logs the old and new values', async () => {
    await putUpstream('blue', { url: blue.url, version: blue.version });
    await putUpstream('green', { url: green.url, version: green.version });
    const a = await putWeights({ blue: 0, green: 100 });
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ generation: 3, blue: { weight: 0 }, green: { weight: 100, ready: true } });
    expect((await predict(rt.url)).headers.get('x-served-by')).toBe('green');
    expect(rt.logs.find((l) => l.event === 'router.weights_changed')).toMatchObject({ old: { blue: 100, green: 0 }, new: { blue: 0, green: 100 }, generation: 3 });
  });

  it('swaps the weights with POST /admin/switch', async () => {
    await putUpstream('blue', { url: blue.url, version: blue.version });
    await putUpstream('green', { url: green.url, version: green.version });
    await putWeights({ blue: 80, green: 20 });
    const a = await admin('/switch', { method: 'POST' });
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ blue: { weight: 20 }, green: { weight: 80 } });
    expect(rt.logs.filter((l) => l.event === 'router.weights_changed').at(-1)).toMatchObject({ change: 'switch', old: { blue: 80, green: 20 }, new: { blue: 20, green: 80 } });
  });

  it.each([
    [{ blue: 60, green: 30 }, /sum to 100/],
    [{ blue: 90.5, green: 9.5 }, /blue: must be an integer/],
    [{ blue: 100 }, /green: /],
    [{ blue: 110, green: -10 }, /blue: must be 0-100/],
    [{ blue: '90', green: '10' }, /blue: /],
    [{ blue: 90, green: 10, red: 0 }, /red/],
  ])('answers 422 naming the problem for weights %j', async (body, message) => {
    await putUpstream('green', { url: green.url, version: green.version });
    const a = await putWeights(body);
    expect(a.status).toBe(422);
    expect(a.body.detail).toMatch(message);
    expect(rt.router.getState()).toMatchObject({ generation: 1, blue: { weight: 100 } });
  });

  it('answers 422 when a color with weight > 0 would have no upstream', async () => {
    await putUpstream('blue', { url: blue.url, version: blue.version });
    const a = await putWeights({ blue: 50, green: 50 });
    expect(a.status).toBe(422);
    expect(a.body.detail).toMatch(/green: weight 50 but no upstream/);
    expect((await admin('/switch', { method: 'POST' })).status).toBe(422);
    const removed = await admin('/upstreams/blue', { method: 'DELETE' });
    expect(removed.status).toBe(422);
  });

  it('answers 422 for a bad upstream and 404 for an unknown color', async () => {
    const badUrl = await putUpstream('blue', { url: 'ftp://x', version: '1' });
    expect(badUrl.status).toBe(422);
    expect(badUrl.body.detail).toMatch(/blue upstream: url: must be an http:\/\/ URL/);
    const badVersion = await putUpstream('blue', { url: blue.url, version: 'not a tag!' });
    expect(badVersion.status).toBe(422);
    expect(badVersion.body.detail).toMatch(/version: must be a valid Docker tag/);
    const missing = await putUpstream('blue', { url: blue.url });
    expect(missing.status).toBe(422);
    expect((await putUpstream('red', { url: blue.url, version: '1' })).status).toBe(404);
    const notJson = await admin('/weights', { method: 'PUT', body: 'blue=100', headers: { 'content-type': 'text/plain' } });
    expect(notJson.status).toBe(400);
    const malformed = await admin('/weights', { method: 'PUT', body: '{"blue":', headers: { 'content-type': 'application/json' } });
    expect(malformed.status).toBe(400);
    expect(malformed.body.detail).toMatch(/not valid JSON/);
  });

  it('answers 412 for a stale If-Match and applies a current one', async () => {
    await putUpstream('blue', { url: blue.url, version: blue.version });
    await putUpstream('green', { url: green.url, version: green.version });
    const stale = await putWeights({ blue: 50, green: 50 }, { 'if-match': '1' });
    expect(stale.status).toBe(412);
    expect(stale.body).toMatchObject({ generation: 2 });
    expect(stale.body.detail).toMatch(/stale generation/);
    expect((await admin('/switch', { method: 'POST', headers: { 'if-match': '"0"' } })).status).toBe(412);
    expect(rt.router.getState().blue.weight).toBe(100);
    const ok = await putWeights({ blue: 50, green: 50 }, { 'if-match': '"2"' });
    expect(ok.status).toBe(200);
    expect(ok.body.generation).toBe(3);
    expect((await putWeights({ blue: 50, green: 50 }, { 'if-match': 'soon' })).status).toBe(400);
  });

  it('lets exactly one of two concurrent writes with the same If-Match through', async () => {
    await putUpstream('blue', { url: blue.url, version: blue.version });
    await putUpstream('green', { url: green.url, version: green.version });
    const [a, b] = await Promise.all([putWeights({ blue: 30, green: 70 }, { 'if-match': '2' }), putWeights({ blue: 70, green: 30 }, { 'if-match': '2' })]);
    expect([a.status, b.status].sort()).toEqual([200, 412]);
  });

  it('never logs the admin token', async () => {
    await call(`${rt.url}/admin/state`, { headers: { authorization: 'Bearer wrong-token' } });
    await putUpstream('blue', { url: blue.url, version: blue.version });
    expect(JSON.stringify(rt.logs)).not.toContain(TOKEN);
  });
});

describe('admin API without a token', () => {
  it('serves loopback clients, refuses others with 403, and warns at start', async () => {
    const rt = await startRouter({ adminToken: undefined });
    try {
      expect(rt.logs.some((l) => l.event === 'router.admin_loopback_only' && l.level === 'warn')).toBe(true);
      expect((await call(`${rt.url}/admin/state`)).status).toBe(200);
    } finally {
      await rt.close();
    }
    const external = Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal);
    if (!external) return; // no non-loopback interface on this machine: only the loopback half can be shown
    const open = await startRouter({ adminToken: undefined });
    const port = new URL(open.url).port;
    await open.close();
    const wide = await startRouterOn(port);
    try {
      const a = await call(`http://${external.address}:${port}/admin/state`);
      expect(a.status).toBe(403);
      expect(a.body.detail).toMatch(/loopback only/);
      expect((await call(`http://${external.address}:${port}/health`)).status).toBe(200);
    } finally {
      await wide.close();
    }
  });
});

async function startRouterOn(port: string) {
  const { createRouter } = await import('../../router/router.js');
  const { memoryStateStore } = await import('../../router/state.js');
  const { createLogger } = await import('../../lib/log.js');
  const router = await createRouter({ state: memoryStateStore(), logger: createLogger({ name: 't', level: 'silent' }) });
  await router.listen(Number(port), '0.0.0.0');
  return router;
}

describe('persisted state', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gsg-router-state-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('restores upstreams, weights and generation after a restart, and leaves no temp files', async () => {
    const file = join(dir, 'platform', 'router.json');
    const first = await startRouter({ state: fileStateStore(file) });
    await first.router.setUpstream('blue', { url: blue.url, version: blue.version });
    await first.router.setUpstream('green', { url: green.url, version: green.version });
    await first.router.setWeights({ blue: 75, green: 25 });
    await first.close();
    expect(await readdir(join(dir, 'platform'))).toEqual(['router.json']);

    const second = await startRouter({ state: fileStateStore(file) });
    try {
      expect(second.router.getState()).toMatchObject({
        generation: 3,
        blue: { url: blue.url, version: blue.version, weight: 75, ready: true },
        green: { url: green.url, version: green.version, weight: 25, ready: true },
      });
      const served = { blue: 0, green: 0 };
      for (let i = 0; i < 100; i++) served[(await predict(second.url)).headers.get('x-served-by') as 'blue' | 'green']++;
      expect(served).toEqual({ blue: 75, green: 25 });
    } finally {
      await second.close();
    }
  });

  it('refuses to start from a state file that is not valid, naming the file and field', async () => {
    const file = join(dir, 'router.json');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(file, JSON.stringify({ schema_version: 1, generation: 2, blue: { url: null, version: null, weight: 'x' }, green: { url: null, version: null, weight: 0 }, updated_at: new Date().toISOString() }));
    await expect(startRouter({ state: fileStateStore(file) })).rejects.toThrow(`${file}: blue.weight:`);
    await writeFile(file, '{"schema_version": 1,');
    await expect(startRouter({ state: fileStateStore(file) })).rejects.toThrow(/not valid JSON/);
  });
});
