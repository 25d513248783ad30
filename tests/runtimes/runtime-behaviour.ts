// The behaviour every Runtime must have, as one suite run against the ProcessRuntime and the DockerRuntime: start
// resolves when /ready is 200 and reports cold start, /predict answers at the reported URL, list shows what runs,
// stop drains in-flight requests, close stops everything the owner started.
import { request } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { InstanceNotFoundError, readyStatus } from '../../infra/runtimes/ready.js';
import type { Instance, Runtime, StartSpec } from '../../infra/runtime.js';

export interface RuntimeUnderTest {
  runtime: Runtime;
  /** Start spec of the bundled version, minus the color. */
  spec: Omit<StartSpec, 'color'>;
}

export interface HttpResult {
  status: number;
  body: string;
}

/** One request on its own connection; `sent` resolves when the request is fully written. */
export function post(url: string, body: unknown): { sent: Promise<void>; done: Promise<HttpResult> } {
  let sent!: () => void;
  const sentP = new Promise<void>((r) => (sent = r));
  const done = new Promise<HttpResult>((resolve, reject) => {
    const req = request(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.on('finish', sent);
    req.end(JSON.stringify(body));
  });
  return { sent: sentP, done };
}

export async function get(url: string): Promise<HttpResult> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
}

const NEGATIVE = 'El gimnasio está sucio, las máquinas rotas y el personal es muy maleducado.';

export function runtimeBehaviour(setup: () => Promise<RuntimeUnderTest>): void {
  let rt: Runtime;
  let spec: RuntimeUnderTest['spec'];
  let blue: Instance;

  beforeAll(async () => {
    ({ runtime: rt, spec } = await setup());
    blue = await rt.start({ ...spec, color: 'blue' });
  });
  afterAll(async () => {
    await rt?.close();
  });

  it('start resolves once /ready answers 200 and reports the instance and its cold start', async () => {
    expect(blue).toMatchObject({ runtime: rt.kind, color: 'blue', modelName: spec.modelName, version: spec.version });
    expect(await readyStatus(blue.url)).toBe(200);
    expect(blue.coldStartSeconds).toBeGreaterThan(0);
    expect(blue.coldStartSeconds).toBeLessThan(60);
    expect(Number.isNaN(Date.parse(blue.startedAt))).toBe(false);
  });

  it('answers /predict at the reported URL with the started version', async () => {
    const { status, body } = await post(`${blue.url}/predict`, { texts: [NEGATIVE] }).done;
    expect(status).toBe(200);
    expect(JSON.parse(body)).toEqual([expect.objectContaining({ sentiment: 'negative', model_version: spec.version })]);
  });

  it('serves Prometheus metrics at the reported metrics target', async () => {
    const { status, body } = await get(`http://${blue.metricsTarget}/metrics`);
    expect(status).toBe(200);
    expect(body).toMatch(new RegExp(`gsg_server_model_info\\{[^}]*model_version="${spec.version.replace(/\./g, '\\.')}"`));
  });

  it('lists what runs', async () => {
    expect(await rt.list()).toContainEqual(blue);
  });

  it('stop drains: 20 slow requests in flight are all answered, then the server is gone', async () => {
    const green = await rt.start({ ...spec, color: 'green', env: { GSG_FAULT_LATENCY_MS: '1500' } });
    const requests = Array.from({ length: 20 }, () => post(`${green.url}/predict`, { texts: [NEGATIVE] }));
    await Promise.all(requests.map((r) => r.sent));
    // A later request answered means the server accepted (and read) the 20 before it: they are in flight now.
    expect((await get(`${green.url}/health`)).status).toBe(200);
    await rt.stop(green.id);
    const results = await Promise.all(requests.map((r) => r.done));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect((await rt.list()).map((i) => i.id)).not.toContain(green.id);
    expect(await readyStatus(green.url)).toBeUndefined();
  });

  it('stop of an unknown instance fails with InstanceNotFoundError', async () => {
    await expect(rt.stop('no-such-instance')).rejects.toBeInstanceOf(InstanceNotFoundError);
  });

  it('close stops every instance it started', async () => {
    const green = await rt.start({ ...spec, color: 'green' });
    expect((await rt.list()).map((i) => i.color).sort()).toEqual(['blue', 'green']);
    await rt.close();
    expect(await rt.list()).toEqual([]);
    expect(await readyStatus(blue.url)).toBeUndefined();
    expect(await readyStatus(green.url)).toBeUndefined();
  });
}
