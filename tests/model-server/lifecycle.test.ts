// Start and stop: /health answers and /ready says 503 while the model loads; SIGTERM drains — /ready 503 at
// once, no new connections, every in-flight request answered (Connection: close), exit 0; SIGINT the same.
import { request, Agent } from 'node:http';
import { describe, expect, it } from 'vitest';
import { loadOnnxServingModel } from '../../services/model-server/src/onnx-serving-model.js';
import type { ServingModel } from '../../services/model-server/src/serving-model.js';
import { testModelDir } from '../helpers/models.js';
import { until } from '../helpers/wait.js';
import { body, postJson, spawnServer, startTestServer } from './helpers.js';

describe('while the model loads', () => {
  it('answers /health 200, /ready and /predict 503 with a reason, then ready once loaded', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const server = await startTestServer({}, {
      loadModel: async (dir): Promise<ServingModel> => {
        await gate;
        return loadOnnxServingModel(dir);
      },
    }, { waitReady: false });
    try {
      expect((await fetch(`${server.url}/health`)).status).toBe(200);
      const notReady = await fetch(`${server.url}/ready`);
      expect(notReady.status).toBe(503);
      expect((await body(notReady)).detail).toBe('Model is loading, not ready yet');
      const predict = await postJson(`${server.url}/predict`, { texts: ['bien'] });
      expect(predict.status).toBe(503);
      expect((await fetch(`${server.url}/model/info`)).status).toBe(503);
      release();
      await server.ready;
      expect((await fetch(`${server.url}/ready`)).status).toBe(200);
      expect((await postJson(`${server.url}/predict`, { texts: ['bien'] })).status).toBe(200);
    } finally {
      release();
      await server.close();
    }
  });

  it('logs serving.start and then serving.ready with the load time', async () => {
    const server = await startTestServer();
    await server.close();
    const events = server.lines.map((l) => l.event);
    expect(events.indexOf('serving.start')).toBeLessThan(events.indexOf('serving.ready'));
    const ready = server.lines.find((l) => l.event === 'serving.ready')!;
    expect(ready.load_ms).toEqual(expect.any(Number));
    expect(ready.start_to_ready_ms).toEqual(expect.any(Number));
    expect(server.lines.filter((l) => l.event === 'serving.shutdown').map((l) => l.phase)).toEqual(['draining', 'closed']);
  });
});

describe('close() (what SIGTERM does)', () => {
  it('drains at once: new connections (so /ready probes) are refused, the request in flight is answered with Connection: close', async () => {
    const server = await startTestServer({ GSG_FAULT_LATENCY_MS: '400' }, {}, { logLevel: 'debug' });
    const agent = new Agent({ keepAlive: true });
    try {
      const inFlight = postJson(`${server.url}/predict`, { texts: ['bien'] }, { 'x-request-id': 'in-flight' });
      await until(() => server.lines.some((l) => l.event === 'serving.request_received' && l.request_id === 'in-flight'), 'the request in flight');
      const closed = server.close();
      expect(server.state()).toBe('draining');
      await expect(fetch(`${server.url}/ready`)).rejects.toThrow();
      const r = await inFlight;
      expect(r.status).toBe(200);
      expect(r.headers.get('connection')).toBe('close');
      expect(await closed).toEqual({ drained: true });
      expect(server.state()).toBe('closed');
    } finally {
      agent.destroy();
      await server.close();
    }
  });
});

function slowPredict(url: string, i: number): Promise<{ status: number; connection: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify({ texts: [`review number ${i}: buen gimnasio`] });
    const req = request(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': `slow-${i}` }, agent: false }, (res) => {
      let b = '';
      res.on('data', (d) => (b += d));
      res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection, body: b }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

describe.each(['SIGTERM', 'SIGINT'] as const)('%s on a server process', (signal) => {
  it('answers all 20 slow in-flight requests, then exits 0', async () => {
    const proc = await spawnServer({ GSG_MODEL: await testModelDir(), GSG_FAULT_LATENCY_MS: '1500', LOG_LEVEL: 'debug' });
    try {
      await proc.waitForLog((l) => l.event === 'serving.ready');
      const responses = Array.from({ length: 20 }, (_, i) => slowPredict(proc.url, i));
      // Every request has reached the server (and sleeps in the injected latency) before the signal.
      for (let i = 0; i < 20; i++) await proc.waitForLog((l) => l.event === 'serving.request_received' && l.request_id === `slow-${i}`);
      proc.child.kill(signal);
      await proc.waitForLog((l) => l.event === 'serving.shutdown' && l.phase === 'draining');
      await expect(fetch(`${proc.url}/health`)).rejects.toThrow(); // the listener is closed
      const results = await Promise.all(responses);
      expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
      for (const r of results) {
        expect(r.connection).toBe('close');
        expect(JSON.parse(r.body)).toHaveLength(1);
      }
      expect(await proc.exited).toBe(0);
      const closed = proc.lines.find((l) => l.event === 'serving.shutdown' && l.phase === 'closed');
      expect(closed).toMatchObject({ drained: true, unanswered: 0 });
      expect(proc.lines.find((l) => l.event === 'serving.shutdown' && l.phase === 'signal')).toMatchObject({ signal });
    } finally {
      await proc.kill();
    }
  });
});

describe('grace period', () => {
  it('closes what is still running when GSG_GRACE_MS runs out and exits 1', async () => {
    const proc = await spawnServer({ GSG_MODEL: await testModelDir(), GSG_FAULT_LATENCY_MS: '60000', GSG_GRACE_MS: '200', LOG_LEVEL: 'debug' });
    try {
      await proc.waitForLog((l) => l.event === 'serving.ready');
      const stuck = slowPredict(proc.url, 0).catch((err: Error) => err);
      await proc.waitForLog((l) => l.event === 'serving.request_received' && l.request_id === 'slow-0');
      proc.child.kill('SIGTERM');
      expect(await proc.exited).toBe(1);
      expect(await stuck).toBeInstanceOf(Error);
      expect(proc.lines.find((l) => l.event === 'serving.shutdown' && l.phase === 'closed')).toMatchObject({ drained: false, unanswered: 1 });
    } finally {
      await proc.kill();
    }
  });
});
