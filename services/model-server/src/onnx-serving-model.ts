// Loads a model version directory for serving: verifies the artifact (sizes and sha256 of every file) and opens
// it in ONNX Runtime through models/onnx-model.ts. Every failure is a ModelLoadError naming the file.
import type { ServingModel } from './serving-model.js';

export async function loadOnnxServingModel(_dir: string): Promise<ServingModel> {
  throw new Error('models/onnx-model.ts has not landed yet');
}
