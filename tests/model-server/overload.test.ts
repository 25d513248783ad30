// Back-pressure: request bytes in flight are capped (GSG_MAX_INFLIGHT_BYTES) so a burst of large bodies cannot exhaust
// the server's capped heap; past the budget a prediction gets 503 with Retry-After, and capacity comes back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postJson, startTestServer, type TestServer } from './helpers.js';

describe('in-flight request budget', () => {
  let server: TestServer;
  // Each body is ~30 KB; the budget (64 KiB) holds two of them while they wait out the injected latency.
  const body = JSON.stringify({ texts: Array.from({ length: 10 }, () => 'el gimnasio está limpio '.repeat(120).trim()) });

  beforeAll(async () => {
    server = await startTestServer({ GSG_MAX_INFLIGHT_BYTES: '65536', GSG_BODY_LIMIT_BYTES: '40000', GSG_FAULT_LATENCY_MS: '400' });
  });
  afterAll(async () => server?.close());

  it('answers 503 with Retry-After once the budget is taken, and serves again when it frees up', async () => {
    const first = [postJson(`${server.url}/predict`, body), postJson(`${server.url}/predict`, body)];
    await new Promise((r) => setTimeout(r, 100)); // both are in flight (reading done, waiting on the latency)
    const third = await postJson(`${server.url}/predict`, body);
    expect(third.status).toBe(503);
    expect(third.headers.get('retry-after')).toBe('1');
    expect(((await third.json()) as { detail: string }).detail).toMatch(/^Server busy: \d+ request bytes in flight \(budget 65536\)/);
    expect((await Promise.all(first)).map((r) => r.status)).toEqual([200, 200]);
    expect((await postJson(`${server.url}/predict`, body)).status).toBe(200);
  });
});
