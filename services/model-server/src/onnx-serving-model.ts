// Loads a model version directory for serving through models/onnx-model.ts: the artifact is verified (size and
// sha256 of every listed file) and model.onnx opened in ONNX Runtime. Every failure is a ModelLoadError naming the
// file. Explanations run the scoring graph and the explain graph on the same token rows.
import { artifactSha256 } from '../../../models/artifact.js';
import { loadOnnxModel } from '../../../models/onnx-model.js';
import type { ServingModel } from './serving-model.js';

export async function loadOnnxServingModel(dir: string): Promise<ServingModel> {
  const m = await loadOnnxModel(dir);
  const tokenize = m.preprocessor.tokenize;
  return {
    metadata: m.metadata,
    sha256: artifactSha256(m.metadata),
    tokenize: (text) => tokenize(text),
    predictTokens: (rows) => m.predictTokens(rows),
    async explainTokens(rows, topK) {
      const [probabilities, explanations] = await Promise.all([m.predictTokens(rows), m.explainTokens(rows, topK)]);
      return { probabilities, explanations };
    },
    close: () => m.close(),
  };
}
