// Builds small valid model version directories (metadata.json passing ModelMetadata, a dummy model.onnx) for tests
// that handle artifacts without running them: the registry, image builds, resolution of --model.
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelMetadata } from '../../models/artifact.js';

export interface FixtureOptions {
  name?: string;
  version?: string;
  /** val F1 of the negative class (shown by `gsg registry list`). */
  f1Neg?: number;
  /** model.onnx bytes (default: a few hundred bytes that differ per version). */
  modelBytes?: Buffer;
  /** More files to write (relative paths), listed in metadata.files like the others. */
  extraFiles?: Record<string, string | Buffer>;
  /** Last word on the metadata written (after files are hashed), e.g. to make it invalid. */
  editMetadata?: (raw: Record<string, unknown>) => void;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export function fixtureMetadata(opts: { name: string; version: string; f1Neg: number; files: Record<string, { sha256: string; size: number }> }): ModelMetadata {
  const block = { ngram_range: [1, 1] as [number, number], min_df: 1, max_df: 1, sublinear_tf: true, stop_words: 10, vocabulary_size: 40 };
  const cls = (f1: number) => ({ precision: f1, recall: f1, f1 });
  return ModelMetadata.parse({
    schema_version: 1,
    model_name: opts.name,
    version: opts.version,
    created_at: '2026-11-25T10:00:00.000Z',
    threshold: 0.5,
    target_class: 'negative',
    label_mapping: { negative: 0, positive: 1 },
    preprocessing: { remove_emoji: true, lowercase: true, structural_punctuation: '.,;:!?', collapse_whitespace: true, token_pattern: '(?u)\\b\\w\\w+\\b' },
    features: { unigrams: block, ngrams: { ...block, ngram_range: [2, 3] }, vocabulary_size: 80 },
    classifier: { type: 'logistic_regression', penalty: 'l2', C: 1, class_weight: 'balanced', solver: 'liblinear' },
    calibration: { method: 'isotonic', cv: 5, ensemble: true },
    onnx: { opset: 17, input: 'tokens', outputs: { probabilities: 'probabilities', contributions: 'contributions' } },
    metrics: { val: { n: 100, threshold: 0.5, negative: cls(opts.f1Neg), positive: cls(0.95), brier: 0.05, ece: 0.02, confusion: { tn: 20, fp: 2, fn: 3, tp: 75 } } },
    files: opts.files,
    training_data: { 'train.csv': { sha256: '0'.repeat(64), rows: 1000 } },
    packages: { node: '20' },
    training_time_seconds: 1.5,
  });
}

/** Writes a version directory at `dir` and returns its metadata. */
export async function writeModelVersion(dir: string, opts: FixtureOptions = {}): Promise<{ dir: string; metadata: ModelMetadata }> {
  const name = opts.name ?? 'sentiment-logreg';
  const version = opts.version ?? '2026-11-25.001';
  const contents: Record<string, Buffer> = {
    'model.onnx': opts.modelBytes ?? Buffer.from(`dummy onnx graph for ${name}@${version}\n`.repeat(8)),
    'explain.json': Buffer.from(JSON.stringify({ features: ['bueno', 'malo'], coefficients: [1.5, -2], intercept: 0.1 })),
    'report.md': Buffer.from(`# ${name} ${version}\n`),
  };
  for (const [rel, data] of Object.entries(opts.extraFiles ?? {})) contents[rel] = Buffer.isBuffer(data) ? data : Buffer.from(data);
  const files: Record<string, { sha256: string; size: number }> = {};
  for (const [rel, data] of Object.entries(contents)) {
    await mkdir(join(dir, rel, '..'), { recursive: true });
    await writeFile(join(dir, rel), data);
    files[rel] = { sha256: sha256(data), size: data.length };
  }
  const metadata = fixtureMetadata({ name, version, f1Neg: opts.f1Neg ?? 0.9, files });
  const raw = structuredClone(metadata) as unknown as Record<string, unknown>;
  opts.editMetadata?.(raw);
  await writeFile(join(dir, 'metadata.json'), `${JSON.stringify(raw, null, 2)}\n`);
  return { dir, metadata };
}
