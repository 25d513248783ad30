// A ServingModel stand-in for tests of the HTTP layer that must control the model's answers (batching, broken
// models): words in NEGATIVE_WORDS push P(negative) up. Real-model behaviour is tested against the bundled ONNX.
import { createPreprocessor } from '../../models/preprocessing.js';
import type { ServingModel } from '../../services/model-server/src/serving-model.js';
import { fixtureMetadata } from '../helpers/model-fixture.js';

const NEGATIVE_WORDS = new Set(['malo', 'sucio', 'roto', 'rotas', 'fatal', 'peor']);

export interface FakeModel extends ServingModel {
  /** Rows passed to each predictTokens call (one entry per ONNX-run stand-in). */
  readonly runs: string[][][];
}

export function createFakeModel(opts: { version?: string; delayMs?: number } = {}): FakeModel {
  const metadata = fixtureMetadata({ name: 'sentiment-logreg', version: opts.version ?? '2026-01-01.001', f1Neg: 0.9, files: { 'model.onnx': { sha256: 'a'.repeat(64), size: 1 } } });
  const pre = createPreprocessor();
  const runs: string[][][] = [];
  const pNeg = (row: string[]) => {
    const bad = row.filter((t) => NEGATIVE_WORDS.has(t)).length;
    return bad === 0 ? 0.1 : Math.min(0.95, 0.6 + 0.1 * bad);
  };
  const probs = (rows: string[][]) => {
    const out = new Float32Array(rows.length * 2);
    rows.forEach((r, i) => {
      out[2 * i] = pNeg(r);
      out[2 * i + 1] = 1 - pNeg(r);
    });
    return out;
  };
  const wait = () => (opts.delayMs ? new Promise((r) => setTimeout(r, opts.delayMs)) : Promise.resolve());
  return {
    metadata,
    sha256: 'a'.repeat(64),
    runs,
    tokenize: (t) => pre.tokenize(t),
    async predictTokens(rows) {
      runs.push(rows);
      await wait();
      return probs(rows);
    },
    async explainTokens(rows, topK) {
      await wait();
      return {
        probabilities: probs(rows),
        explanations: rows.map((r) => r.slice(0, topK).map((feature) => ({ feature, importance: NEGATIVE_WORDS.has(feature) ? -0.5 : 0.1 }))),
      };
    },
    async close() {},
  };
}
