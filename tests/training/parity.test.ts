// The bundled model: for every text in val.csv, ONNX Runtime equals the plain-TypeScript scorer of the parameters in
// model.onnx within 1e-5, and its val metrics are the ones recorded in metadata.json.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundledModelsDir } from '../../lib/paths.js';
import { listVersionDirs } from '../../models/artifact.js';
import { loadOnnxModel, pNegativeAt, type OnnxModel } from '../../models/onnx-model.js';
import { createScorer, type Scorer } from '../../models/scorer.js';
import { readLabelledCsv, type LabelledData } from '../../models/training/dataset.js';
import { evaluateScores } from '../../models/training/metrics.js';
import { readModelParams } from '../../models/training/onnx-graph.js';
import { hasData, VAL_CSV } from '../helpers/data.js';

let model: OnnxModel;
let scorer: Scorer;
let val: LabelledData;
let rows: string[][];
let onnx: Float64Array;

describe.skipIf(!hasData)('bundled model parity on val.csv', () => {
  beforeAll(async () => {
    const versions = await listVersionDirs(bundledModelsDir());
    expect(versions).toHaveLength(1);
    const dir = join(bundledModelsDir(), versions[0]!);
    model = await loadOnnxModel(dir);
    scorer = createScorer(readModelParams(await readFile(join(dir, 'model.onnx'))));
    val = await readLabelledCsv(VAL_CSV);
    rows = val.texts.map((t) => model.preprocessor.tokenize(t));
    onnx = new Float64Array(rows.length);
    for (let s = 0; s < rows.length; s += 128) {
      const probs = await model.predictTokens(rows.slice(s, s + 128));
      for (let i = 0; i < Math.min(128, rows.length - s); i++) onnx[s + i] = pNegativeAt(probs, i);
    }
  });

  afterAll(async () => {
    await model?.close();
  });

  it('matches the TypeScript scorer within 1e-5 for every val text', () => {
    let worst = 0;
    rows.forEach((r, i) => {
      worst = Math.max(worst, Math.abs(onnx[i]! - scorer.pNegative(r)));
    });
    expect(worst).toBeLessThan(1e-5);
  });

  it('returns P(negative) and P(positive) summing to 1', async () => {
    const probs = await model.predictTokens(rows.slice(0, 50));
    for (let i = 0; i < 50; i++) expect(probs[2 * i]! + probs[2 * i + 1]!).toBeCloseTo(1, 6);
  });

  it('reproduces the val metrics recorded in metadata.json', () => {
    const m = evaluateScores(onnx, val.labels, model.metadata.threshold);
    expect(m.confusion).toEqual(model.metadata.metrics.val.confusion);
    expect(m.negative.f1).toBe(model.metadata.metrics.val.negative.f1);
    expect(m.brier).toBeCloseTo(model.metadata.metrics.val.brier, 12);
  });

  it('explains val texts as the scorer does', async () => {
    const sample = rows.slice(0, 20);
    const explained = await model.explainTokens(sample, 10);
    sample.forEach((r, i) => {
      const ts = scorer.explain(r, 10);
      expect(explained[i]!.length).toBe(ts.length);
      explained[i]!.forEach((e, k) => expect(Math.abs(e.importance - ts[k]!.importance)).toBeLessThan(1e-5));
    });
  });
});
