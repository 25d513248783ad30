// The model server's API against the bundled model, in process on 127.0.0.1: every endpoint's shape, results
// equal to ONNX Runtime's own, request ids, metrics after traffic, the OpenAPI document and the docs page.
import SwaggerParser from '@apidevtools/swagger-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactSha256, readMetadata, type ModelMetadata } from '../../models/artifact.js';
import { loadOnnxModel, type OnnxModel } from '../../models/onnx-model.js';
import { DOCUMENTED_PATHS } from '../../services/model-server/src/openapi.js';
import { testModelDir } from '../helpers/models.js';
import { body, postJson, startTestServer, type TestServer } from './helpers.js';

const NEGATIVE = 'Fatal, el vestuario siempre sucio, las máquinas rotas y el personal muy borde. No lo recomiendo.';
const POSITIVE = 'Gimnasio genial, muy limpio, monitores atentos y buen ambiente. Totalmente recomendable.';

let server: TestServer;
let meta: ModelMetadata;
let model: OnnxModel;

beforeAll(async () => {
  const dir = await testModelDir();
  meta = await readMetadata(dir);
  model = await loadOnnxModel(dir);
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
  await model?.close();
});

describe('probes', () => {
  it('GET /health answers {"status":"ok"}', async () => {
    const r = await fetch(`${server.url}/health`);
    expect(r.status).toBe(200);
    expect(await body(r)).toEqual({ status: 'ok' });
  });

  it('GET /ready names the loaded version once the model answered its warm-up', async () => {
    const r = await fetch(`${server.url}/ready`);
    expect(r.status).toBe(200);
    expect(await body(r)).toEqual({ status: 'ready', model_loaded: true, model_version: meta.version });
  });
});

describe('GET /model/info', () => {
  it('describes the version: name, threshold, labels, sha256 of model.onnx and val metrics, no faults', async () => {
    const r = await fetch(`${server.url}/model/info`);
    expect(r.status).toBe(200);
    const info = await body(r);
    expect(info).toMatchObject({
      model_name: meta.model_name,
      version: meta.version,
      threshold: meta.threshold,
      target_class: 'negative',
      label_mapping: { negative: 0, positive: 1 },
      sha256: artifactSha256(meta),
      metrics: { val: meta.metrics.val },
    });
    expect(info.faults).toBeUndefined();
  });
});

describe('POST /predict', () => {
  it('returns one result per text, in order, with the probabilities ONNX Runtime computes', async () => {
    const texts = [NEGATIVE, POSITIVE, 'normalito, nada especial', NEGATIVE];
    const r = await postJson(`${server.url}/predict`, { texts });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json');
    const results = await body(r);
    const expected = await model.predictTexts(texts);
    expect(results).toHaveLength(texts.length);
    results.forEach((res: Record<string, unknown>, i: number) => {
      expect(Object.keys(res)).toEqual(['sentiment', 'confidence', 'probability_positive', 'probability_negative', 'model_version']);
      expect(res.probability_negative).toBeCloseTo(expected[2 * i]!, 5);
      expect(res.probability_positive).toBeCloseTo(expected[2 * i + 1]!, 5);
      expect(res.model_version).toBe(meta.version);
    });
    expect(results[0]).toEqual(results[3]);
  });

  it('labels a text negative iff P(negative) >= the threshold, with the predicted class probability as confidence', async () => {
    const r = await postJson(`${server.url}/predict`, { texts: [NEGATIVE, POSITIVE] });
    const [neg, pos] = await body(r);
    expect(neg.sentiment).toBe('negative');
    expect(neg.probability_negative).toBeGreaterThanOrEqual(meta.threshold);
    expect(neg.confidence).toBe(neg.probability_negative);
    expect(pos.sentiment).toBe('positive');
    expect(pos.probability_negative).toBeLessThan(meta.threshold);
    expect(pos.confidence).toBe(pos.probability_positive);
  });

  it('accepts 100 texts and texts of exactly 5120 UTF-8 bytes', async () => {
    const long = 'ñ'.repeat(2560); // 2 bytes each
    const r = await postJson(`${server.url}/predict`, { texts: [long, ...Array.from({ length: 99 }, () => POSITIVE)] });
    expect(r.status).toBe(200);
    expect(await body(r)).toHaveLength(100);
  });
});

describe('POST /predict/explain', () => {
  it('adds the top 10 features by absolute importance (signed), the same as the model explains them', async () => {
    const r = await postJson(`${server.url}/predict/explain`, { texts: [NEGATIVE, POSITIVE] });
    expect(r.status).toBe(200);
    const results = await body(r);
    const expected = await model.explainTokens([model.preprocessor.tokenize(NEGATIVE), model.preprocessor.tokenize(POSITIVE)], 10);
    for (const [i, res] of results.entries()) {
      expect(res).toMatchObject({ model_version: meta.version, sentiment: i === 0 ? 'negative' : 'positive' });
      expect(res.explanation.length).toBeGreaterThan(0);
      expect(res.explanation.length).toBeLessThanOrEqual(10);
      expect(res.explanation.map((f: { feature: string }) => f.feature)).toEqual(expected[i]!.map((f) => f.feature));
      const abs = res.explanation.map((f: { importance: number }) => Math.abs(f.importance));
      expect(abs).toEqual([...abs].sort((a, b) => b - a));
    }
    // A clearly negative review is explained mostly by features pushing towards negative.
    expect(results[0].explanation[0].importance).toBeLessThan(0);
  });

  it('honours top_k', async () => {
    const r = await postJson(`${server.url}/predict/explain`, { texts: [NEGATIVE], top_k: 2 });
    const [res] = await body(r);
    expect(res.explanation).toHaveLength(2);
  });
});

describe('request ids', () => {
  it('echoes x-request-id and writes it in the request log line', async () => {
    const r = await postJson(`${server.url}/predict`, { texts: [POSITIVE] }, { 'x-request-id': 'test-req-42' });
    expect(r.headers.get('x-request-id')).toBe('test-req-42');
    await r.text();
    const line = server.lines.find((l) => l.event === 'serving.request' && l.request_id === 'test-req-42');
    expect(line).toMatchObject({ route: '/predict', status: 200, input_count: 1, model_version: meta.version });
    expect(typeof line!.latency_ms).toBe('number');
    expect(JSON.stringify(server.lines)).not.toContain('Gimnasio genial');
  });

  it('generates one when absent (also on errors and on express routes)', async () => {
    for (const r of [await postJson(`${server.url}/predict`, { texts: [] }), await fetch(`${server.url}/nowhere`), await fetch(`${server.url}/model/info`)]) {
      expect(r.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});

describe('GET /metrics', () => {
  it('exposes the gsg_server_* series after traffic, labelled with the version, plus process metrics', async () => {
    await postJson(`${server.url}/predict`, { texts: [NEGATIVE, POSITIVE, POSITIVE] });
    const r = await fetch(`${server.url}/metrics`);
    expect(r.status).toBe(200);
    const text = await r.text();
    const v = meta.version;
    expect(text).toMatch(new RegExp(`gsg_server_request_duration_seconds_count\\{route="/predict",status="200",model_version="${v}"\\} \\d+`));
    expect(text).toMatch(new RegExp(`gsg_server_predictions_total\\{sentiment="negative",model_version="${v}"\\} \\d+`));
    expect(text).toMatch(new RegExp(`gsg_server_predictions_total\\{sentiment="positive",model_version="${v}"\\} \\d+`));
    expect(text).toMatch(new RegExp(`gsg_server_batch_size_bucket\\{le="5",model_version="${v}"\\} \\d+`));
    expect(text).toMatch(new RegExp(`gsg_server_model_load_seconds\\{model_version="${v}"\\} [\\d.e-]+`));
    expect(text).toMatch(new RegExp(`gsg_server_start_to_ready_seconds\\{model_version="${v}"\\} [\\d.e-]+`));
    expect(text).toContain(`gsg_server_model_info{model_name="${meta.model_name}",model_version="${v}",sha256="${artifactSha256(meta)}"} 1`);
    expect(text).toContain('process_resident_memory_bytes');
  });
});

describe('GET /openapi.json and /docs', () => {
  it('is a valid OpenAPI 3.1 document covering every route', async () => {
    const r = await fetch(`${server.url}/openapi.json`);
    expect(r.status).toBe(200);
    const doc = await body(r);
    await SwaggerParser.validate(structuredClone(doc));
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual([...DOCUMENTED_PATHS].sort());
  });

  it('documents the request schema the server validates with (limits included)', async () => {
    const doc = await body(await fetch(`${server.url}/openapi.json`));
    const texts = doc.components.schemas.PredictRequest.properties.texts;
    expect(texts).toMatchObject({ type: 'array', minItems: 1, maxItems: 100, items: { type: 'string' } });
    expect(doc.components.schemas.ExplainRequest.properties.top_k).toMatchObject({ type: 'integer', minimum: 1, default: 10 });
    expect(Object.keys(doc.paths['/predict'].post.responses)).toEqual(expect.arrayContaining(['200', '400', '413', '415', '422', '503']));
  });

  it('serves an interactive page whose scripts and styles come from this server only', async () => {
    const r = await fetch(`${server.url}/docs`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('text/html');
    const html = await r.text();
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThan(0);
    for (const a of assets) {
      expect(a.startsWith('/')).toBe(true);
      const asset = await fetch(`${server.url}${a}`);
      expect(asset.status, a).toBe(200);
      expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(0);
    }
    expect(html).toContain("url: '/openapi.json'");
  });
});

describe('unknown routes and methods', () => {
  it('answers 404 JSON for an unknown path, never an HTML page', async () => {
    for (const [method, path] of [['GET', '/nope'], ['POST', '/predict/nope'], ['GET', '/docs/../package.json'], ['DELETE', '/']] as const) {
      const r = await fetch(`${server.url}${path}`, { method });
      expect(r.status, `${method} ${path}`).toBe(404);
      expect(r.headers.get('content-type')).toContain('application/json');
      expect((await body(r)).detail).toContain('Not found');
    }
  });

  it('answers 405 JSON with Allow for a wrong method on a known route', async () => {
    for (const [method, path, allow] of [['GET', '/predict', 'POST'], ['PUT', '/predict/explain', 'POST'], ['POST', '/health', 'GET, HEAD'], ['POST', '/model/info', 'GET'], ['DELETE', '/metrics', 'GET']] as const) {
      const r = await fetch(`${server.url}${path}`, { method });
      expect(r.status, `${method} ${path}`).toBe(405);
      expect(r.headers.get('allow')).toBe(allow);
      expect((await body(r)).detail).toContain(method);
    }
  });
});
