// Fault injection for release-pipeline tests (GSG_FAULT_*): off by default, loud when on, visible in /model/info,
// and each fault does exactly what a rollout's analysis must catch.
import { afterEach, describe, expect, it } from 'vitest';
import { body, postJson, startTestServer, type TestServer } from './helpers.js';

const TEXTS = ['Fatal, vestuarios sucios y máquinas rotas', 'Genial, limpio y con monitores muy amables'];
const servers: TestServer[] = [];
async function start(env: Record<string, string>, deps = {}) {
  const s = await startTestServer(env, deps);
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('fault injection', () => {
  it('is off by default: no warning, no faults in /model/info', async () => {
    const s = await start({});
    expect(s.lines.some((l) => l.event === 'serving.fault_injection_enabled')).toBe(false);
    expect((await body(await fetch(`${s.url}/model/info`))).faults).toBeUndefined();
  });

  it('when on, logs serving.fault_injection_enabled at warn and shows the faults in /model/info', async () => {
    const s = await start({ GSG_FAULT_ERROR_RATE: '0.25', GSG_FAULT_LATENCY_MS: '5', GSG_FAULT_FLIP: 'true' });
    expect(s.lines.find((l) => l.event === 'serving.fault_injection_enabled')).toMatchObject({ level: 'warn', faults: { error_rate: 0.25, latency_ms: 5, flip: true } });
    expect((await body(await fetch(`${s.url}/model/info`))).faults).toEqual({ error_rate: 0.25, latency_ms: 5, flip: true });
  });

  it('GSG_FAULT_ERROR_RATE answers that share of predictions 500 {"detail":"injected fault"}', async () => {
    // A deterministic random source: every fourth draw is under the rate.
    let i = 0;
    const s = await start({ GSG_FAULT_ERROR_RATE: '0.25' }, { random: () => (i++ % 4 === 0 ? 0.1 : 0.9) });
    const statuses: number[] = [];
    for (let k = 0; k < 8; k++) {
      const r = await postJson(`${s.url}/${k % 2 ? 'predict' : 'predict/explain'}`, { texts: TEXTS });
      statuses.push(r.status);
      if (r.status === 500) expect(await body(r)).toEqual({ detail: 'injected fault' });
      else await r.text();
    }
    expect(statuses).toEqual([500, 200, 200, 200, 500, 200, 200, 200]);
  });

  it('GSG_FAULT_ERROR_RATE=1 fails every prediction but still answers bad input with 4xx and probes with 200', async () => {
    const s = await start({ GSG_FAULT_ERROR_RATE: '1' });
    expect((await postJson(`${s.url}/predict`, { texts: TEXTS })).status).toBe(500);
    expect((await postJson(`${s.url}/predict`, { texts: [] })).status).toBe(422);
    expect((await fetch(`${s.url}/ready`)).status).toBe(200);
  });

  it('GSG_FAULT_LATENCY_MS delays every prediction by at least that long (seen in the duration histogram)', async () => {
    const s = await start({ GSG_FAULT_LATENCY_MS: '300' });
    for (let k = 0; k < 3; k++) expect((await postJson(`${s.url}/predict`, { texts: TEXTS })).status).toBe(200);
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    const bucket = (le: string) => Number(new RegExp(`gsg_server_request_duration_seconds_bucket\\{le="${le.replace('+', '\\+')}",route="/predict",status="200"[^}]*\\} (\\d+)`).exec(metrics)?.[1]);
    expect(bucket('0.25')).toBe(0);
    expect(bucket('+Inf')).toBe(3);
  });

  it('GSG_FAULT_FLIP inverts the labels: probabilities swapped, sentiments reversed', async () => {
    const normal = await start({});
    const flipped = await start({ GSG_FAULT_FLIP: '1' });
    const a = await body(await postJson(`${normal.url}/predict`, { texts: TEXTS }));
    const b = await body(await postJson(`${flipped.url}/predict`, { texts: TEXTS }));
    expect(a.map((r: { sentiment: string }) => r.sentiment)).toEqual(['negative', 'positive']);
    expect(b.map((r: { sentiment: string }) => r.sentiment)).toEqual(['positive', 'negative']);
    for (let k = 0; k < TEXTS.length; k++) {
      expect(b[k].probability_negative).toBe(a[k].probability_positive);
      expect(b[k].probability_positive).toBe(a[k].probability_negative);
    }
  });
});
