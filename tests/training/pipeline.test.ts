// The training pipeline end to end on a small synthetic corpus: the version directory, deterministic export, the
// ONNX graphs against the plain-TypeScript scorer (edge cases and padding), atomic writes.
import { mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModelArtifact, ModelMetadata } from '../../models/artifact.js';
import { loadOnnxModel, pNegativeAt, type OnnxModel } from '../../models/onnx-model.js';
import { createScorer, type Scorer } from '../../models/scorer.js';
import { buildModelOnnx, readModelParams } from '../../models/training/onnx-graph.js';
import { trainModel, VersionExistsError, type TrainResult } from '../../models/training/pipeline.js';
import { SYNTHETIC_RECIPE, syntheticDataDir, toCsv } from './synthetic.js';

let data: Awaited<ReturnType<typeof syntheticDataDir>>;
let out: string;
let result: TrainResult;
let model: OnnxModel;
let scorer: Scorer;

beforeAll(async () => {
  data = await syntheticDataDir();
  out = await mkdtemp(join(tmpdir(), 'gsg-models-'));
  result = await trainModel({ dataDir: data.dir, outDir: out, version: '2026-01-01.001', recipe: SYNTHETIC_RECIPE });
  model = await loadOnnxModel(result.dir);
  scorer = createScorer(readModelParams(await readFile(join(result.dir, 'model.onnx'))));
});

afterAll(async () => {
  await model?.close();
  await data?.cleanup();
  await rm(out, { recursive: true, force: true });
});

async function pNegatives(rows: string[][]): Promise<number[]> {
  const probs = await model.predictTokens(rows);
  return rows.map((_, i) => pNegativeAt(probs, i));
}

describe('training pipeline', () => {
  it('writes a version directory whose metadata validates and covers every other file', async () => {
    const files = (await readdir(result.dir)).sort();
    expect(files).toEqual(['explain.json', 'explain.onnx', 'metadata.json', 'model.onnx', 'pr-curve.svg', 'reliability.svg', 'report.md']);
    const meta = ModelMetadata.parse(JSON.parse(await readFile(join(result.dir, 'metadata.json'), 'utf8')));
    expect(Object.keys(meta.files).sort()).toEqual(files.filter((f) => f !== 'metadata.json'));
    expect(meta).toMatchObject({ model_name: 'sentiment-logreg', version: '2026-01-01.001', target_class: 'negative', label_mapping: { negative: 0, positive: 1 } });
    expect(Object.keys(meta.training_data)).toEqual(['train.csv', 'val.csv']);
    expect(meta.training_data['train.csv']!.rows).toBe(400);
    expect(meta.packages['onnxruntime-node']).toMatch(/^\d+\.\d+/);
    await expect(loadModelArtifact(result.dir)).resolves.toBeDefined();
  });

  it('reports val metrics that ONNX Runtime reproduces at the stored threshold', async () => {
    const csv = await readFile(join(data.dir, 'val.csv'), 'utf8');
    expect(result.metadata.metrics.val.n).toBe(csv.trim().split('\n').length - 1);
    expect(result.metadata.threshold).toBe(result.search.chosen.threshold);
    expect(result.metadata.metrics.val.negative.recall).toBeGreaterThanOrEqual(0.9);
  });

  it('writes report.md with the metrics, confusion matrix, threshold search and both figures', async () => {
    const report = await readFile(join(result.dir, 'report.md'), 'utf8');
    for (const s of ['## Val metrics', '### Confusion matrix (val)', '## Threshold search (val)', '![Reliability', '(reliability.svg)', '(pr-curve.svg)', `**${result.metadata.threshold}**`]) expect(report).toContain(s);
    for (const f of ['reliability.svg', 'pr-curve.svg']) expect(await readFile(join(result.dir, f), 'utf8')).toMatch(/^<svg [^>]*>[\s\S]*<\/svg>\n$/);
  });

  it('exports a byte-identical model.onnx when trained again on the same data and options, whatever the worker count', async () => {
    const otherOut = await mkdtemp(join(tmpdir(), 'gsg-models-'));
    try {
      // Also with the folds fitted in this thread instead of on worker threads.
      const same = await trainModel({ dataDir: data.dir, outDir: otherOut, version: '2026-01-01.001', recipe: SYNTHETIC_RECIPE, workers: 1 });
      for (const f of ['model.onnx', 'explain.onnx', 'explain.json']) expect((await readFile(join(same.dir, f))).equals(await readFile(join(result.dir, f)))).toBe(true);
    } finally {
      await rm(otherOut, { recursive: true, force: true });
    }
  });

  it('refuses to overwrite an existing version', async () => {
    await expect(trainModel({ dataDir: data.dir, outDir: out, version: '2026-01-01.001', recipe: SYNTHETIC_RECIPE })).rejects.toBeInstanceOf(VersionExistsError);
  });

  it('leaves nothing behind when a run fails', async () => {
    const bad = await syntheticDataDir({ valCsv: toCsv([{ comment: 'ok', sentiment: 'positive' }, { comment: 'meh', sentiment: 'neutral' }]) });
    const empty = await mkdtemp(join(tmpdir(), 'gsg-models-'));
    try {
      await expect(trainModel({ dataDir: bad.dir, outDir: empty, recipe: SYNTHETIC_RECIPE })).rejects.toThrow('val.csv: row 2: sentiment must be "negative" or "positive", got "neutral"');
      expect(await readdir(empty)).toEqual([]);
    } finally {
      await bad.cleanup();
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('removes the temporary directory a killed run left behind', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gsg-models-'));
    try {
      // pid 2^22 + 1 is above Linux's pid_max, so no process has it.
      await mkdir(join(dir, '.tmp-2026-01-01.009-4194305'), { recursive: true });
      await trainModel({ dataDir: data.dir, outDir: dir, version: '2026-01-01.010', recipe: SYNTHETIC_RECIPE });
      expect(await readdir(dir)).toEqual(['2026-01-01.010']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('defaults the version to <UTC date>.<NNN>, the next free number', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gsg-models-'));
    try {
      const now = () => new Date('2026-03-04T23:59:00Z');
      const first = await trainModel({ dataDir: data.dir, outDir: dir, recipe: SYNTHETIC_RECIPE, now });
      const second = await trainModel({ dataDir: data.dir, outDir: dir, recipe: SYNTHETIC_RECIPE, now });
      expect([first.version, second.version]).toEqual(['2026-03-04.001', '2026-03-04.002']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('ONNX graphs against the TypeScript scorer', () => {
  const rows = [
    [],
    ['zzz', 'desconocido'],
    ['genial', 'genial', 'genial', 'limpio'],
    ['sucio', 'caro', 'pero', 'el', 'gimnasio', 'muy', 'genial', 'sucio', 'caro'],
    ['nunca', 'peor'],
    ['el'],
    ['no', 'el', 'gimnasio', 'de', 'la', 'sala', 'monitores', 'precio', 'horario', 'clases', 'buen', 'ambiente', 'máquinas', 'nuevas', 'duchas', 'frías', 'esperas', 'roto'],
  ];

  it('scores edge cases (empty, unknown tokens only, repeated terms, long rows) as the scorer does', async () => {
    const onnx = await pNegatives(rows);
    rows.forEach((r, i) => expect(Math.abs(onnx[i]! - scorer.pNegative(r))).toBeLessThan(1e-5));
  });

  it('gives a row the same score alone and padded in a batch (no n-gram spans the padding)', async () => {
    const batch = await pNegatives(rows);
    for (let i = 0; i < rows.length; i++) expect((await pNegatives([rows[i]!]))[0]).toBe(batch[i]);
  });

  it('scores an empty text as the intercept-only model, not as an error', async () => {
    const [p] = await pNegatives([[]]);
    expect(p).toBeGreaterThan(0);
    expect(p).toBeLessThan(1);
  });

  it('explains with the present features ranked by |tf-idf × mean coefficient|', async () => {
    const [onnx] = await model.explainTokens([rows[3]!], 5);
    const ts = scorer.explain(rows[3]!, 5);
    expect(onnx!.map((e) => e.feature)).toEqual(ts.map((e) => e.feature));
    onnx!.forEach((e, i) => expect(Math.abs(e.importance - ts[i]!.importance)).toBeLessThan(1e-5));
  });

  it('reads the exported parameters back exactly (re-exporting them gives the same bytes)', async () => {
    const bytes = await readFile(join(result.dir, 'model.onnx'));
    const params = readModelParams(bytes);
    const explain = JSON.parse(await readFile(join(result.dir, 'explain.json'), 'utf8')) as { features: string[] };
    expect(params.blocks.flatMap((b) => b.terms)).toEqual(explain.features);
    expect(Buffer.from(buildModelOnnx(params, { modelName: 'sentiment-logreg', version: '2026-01-01.001' })).equals(bytes)).toBe(true);
  });
});
