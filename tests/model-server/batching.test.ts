// Dynamic batching on the real model: concurrent /predict requests share ONNX runs, and every client still gets
// exactly the results of its own texts, in order.
import { afterEach, describe, expect, it } from 'vitest';
import { loadOnnxServingModel } from '../../services/model-server/src/onnx-serving-model.js';
import { body, postJson, startTestServer, type TestServer } from './helpers.js';

const REVIEWS = [
  'Fatal, el vestuario sucio y las máquinas rotas',
  'Muy buen gimnasio, limpio y con buen ambiente',
  'Caro para lo que ofrece, siempre lleno a partir de las siete',
  'Los monitores son muy profesionales y atentos',
  'Me cobraron dos veces y nadie me devuelve el dinero',
  'Clases de spinning geniales',
  'La peor atención que he recibido en un gimnasio',
];

/** The bundled model, counting how many ONNX runs it is asked for. */
function countingLoader() {
  const runs: number[] = [];
  return {
    runs,
    loadModel: async (dir: string) => {
      const m = await loadOnnxServingModel(dir);
      return { ...m, metadata: m.metadata, sha256: m.sha256, predictTokens: (rows: string[][]) => (runs.push(rows.length), m.predictTokens(rows)) };
    },
  };
}

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function fire(url: string, n: number) {
  const requests = Array.from({ length: n }, (_, i) => [REVIEWS[i % REVIEWS.length]!, REVIEWS[(i * 3 + 1) % REVIEWS.length]!].slice(0, 1 + (i % 2)));
  const responses = await Promise.all(requests.map((texts) => postJson(`${url}/predict`, { texts }).then(body)));
  return { requests, responses };
}

describe('dynamic batching', () => {
  it('coalesces concurrent requests into fewer ONNX runs, each client getting its own results in order', async () => {
    const counting = countingLoader();
    const server = await startTestServer({}, { loadModel: counting.loadModel });
    servers.push(server);
    // Reference: each review alone.
    const single = new Map<string, unknown>();
    for (const t of REVIEWS) single.set(t, (await body(await postJson(`${server.url}/predict`, { texts: [t] })))[0]);
    counting.runs.length = 0;

    const { requests, responses } = await fire(server.url, 40);
    requests.forEach((texts, i) => {
      expect(responses[i]).toHaveLength(texts.length);
      texts.forEach((t, j) => expect(responses[i][j]).toEqual(single.get(t)));
    });
    expect(counting.runs.reduce((a, b) => a + b, 0)).toBe(requests.flat().length);
    expect(counting.runs.length).toBeLessThan(requests.length);
  });

  it('GSG_BATCH_MAX_TEXTS caps the texts per run, and 0 turns coalescing off', async () => {
    const capped = countingLoader();
    const off = countingLoader();
    const a = await startTestServer({ GSG_BATCH_MAX_TEXTS: '4' }, { loadModel: capped.loadModel });
    const b = await startTestServer({ GSG_BATCH_MAX_TEXTS: '0' }, { loadModel: off.loadModel });
    servers.push(a, b);
    capped.runs.length = 0;
    off.runs.length = 0;
    await fire(a.url, 30);
    await fire(b.url, 30);
    expect(Math.max(...capped.runs)).toBeLessThanOrEqual(4);
    expect(off.runs).toHaveLength(30);
  });
});
