// What the server needs from a loaded model version, independent of how it runs (ONNX Runtime in production,
// a fake in unit tests): metadata, the shared tokenizer, and batched inference on token rows.
import type { ModelMetadata } from '../../../models/artifact.js';
import type { FeatureImportance } from './api-schemas.js';

export interface ServingModel {
  readonly metadata: ModelMetadata;
  /** sha256 of model.onnx (the version's identity). */
  readonly sha256: string;
  /** Cleans and tokenises one text exactly as training did. */
  tokenize(text: string): string[];
  /** P(negative), P(positive) per row, row-major `[N, 2]`. */
  predictTokens(rows: string[][]): Promise<Float32Array>;
  /** Probabilities plus the `topK` features of each row by absolute contribution (signed). */
  explainTokens(rows: string[][], topK: number): Promise<{ probabilities: Float32Array; explanations: FeatureImportance[][] }>;
  close(): Promise<void>;
}
