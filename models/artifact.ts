// ModelArtifact: the on-disk format of one trained model version (`models/sentiment-logreg/<version>/`)
// and the zod schema of its metadata.json. Training writes it, the registry stores it, servers load it.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { GsgError } from '../lib/errors.js';
import { ExitCode } from '../lib/exit-codes.js';
import { parseJsonText } from '../lib/json-file.js';

export const METADATA_FILE = 'metadata.json';
export const MODEL_FILE = 'model.onnx';
export const EXPLAIN_FILE = 'explain.json';

/** Valid Docker tag, sortable (e.g. 2026-11-24.001). */
export const VersionString = z
  .string()
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, 'must be a valid Docker tag: letters, digits, "_", "." and "-", at most 128 characters');
export const ModelName = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'must match [a-z][a-z0-9-]*');

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be a hex sha256');
const Probability = z.number().min(0).max(1);

export const ClassMetrics = z.object({ precision: Probability, recall: Probability, f1: Probability });
export const EvalMetrics = z.object({
  n: z.number().int().nonnegative(),
  threshold: Probability,
  negative: ClassMetrics,
  positive: ClassMetrics,
  brier: z.number().nonnegative(),
  ece: z.number().nonnegative(),
  confusion: z.object({ tn: z.number().int(), fp: z.number().int(), fn: z.number().int(), tp: z.number().int() }),
});
export type EvalMetrics = z.infer<typeof EvalMetrics>;

const NgramBlock = z.object({
  ngram_range: z.tuple([z.number().int().positive(), z.number().int().positive()]),
  min_df: z.number().nonnegative(),
  max_df: z.number().positive(),
  sublinear_tf: z.boolean(),
  stop_words: z.number().int().nonnegative().describe('number of stopwords dropped'),
  vocabulary_size: z.number().int().nonnegative(),
});

export const ModelMetadata = z.object({
  schema_version: z.literal(1),
  model_name: ModelName,
  version: VersionString,
  created_at: z.iso.datetime({ offset: true }),
  threshold: Probability,
  target_class: z.literal('negative'),
  label_mapping: z.object({ negative: z.literal(0), positive: z.literal(1) }),
  preprocessing: z.object({
    remove_emoji: z.boolean(),
    lowercase: z.boolean(),
    structural_punctuation: z.string(),
    collapse_whitespace: z.boolean(),
    token_pattern: z.string(),
  }),
  features: z.object({ unigrams: NgramBlock, ngrams: NgramBlock, vocabulary_size: z.number().int().positive() }),
  classifier: z.object({ type: z.literal('logistic_regression'), penalty: z.literal('l2'), C: z.number().positive(), class_weight: z.union([z.literal('balanced'), z.null(), z.record(z.string(), z.number())]), nb_scaling: z.object({ alpha: z.number().positive() }).nullable().optional().describe('Naive-Bayes log-count-ratio feature scaling (NB-LR); coefficients are already multiplied by the ratios'), solver: z.string() }),
  calibration: z.object({ method: z.literal('isotonic'), cv: z.number().int().min(2), ensemble: z.boolean() }),
  onnx: z.object({
    opset: z.number().int(),
    /** ai.onnx.ml opset (LabelEncoder), when the graph uses it. */
    ml_opset: z.number().int().optional(),
    input: z.literal('tokens'),
    outputs: z.object({ probabilities: z.literal('probabilities'), contributions: z.literal('contributions') }),
    /** The graph computing `contributions` (model.onnx computes `probabilities`). */
    explain_model: z.string().optional(),
  }),
  metrics: z.object({ val: EvalMetrics }).catchall(z.unknown()),
  files: z.record(z.string(), z.object({ sha256: Sha256, size: z.number().int().nonnegative() })),
  training_data: z.record(z.string(), z.object({ sha256: Sha256, rows: z.number().int().nonnegative() })),
  packages: z.record(z.string(), z.string()),
  training_time_seconds: z.number().nonnegative(),
  notes: z.string().optional(),
});
export type ModelMetadata = z.infer<typeof ModelMetadata>;

/** The explain sidecar: feature names index-aligned with the `contributions` output, and fold-averaged coefficients. */
export const ExplainData = z.object({
  features: z.array(z.string()),
  coefficients: z.array(z.number()),
  intercept: z.number(),
});
export type ExplainData = z.infer<typeof ExplainData>;

export class ModelLoadError extends GsgError {
  constructor(message: string, context: { file: string } & Record<string, unknown>) {
    super(message, { code: 'model_load', context, exitCode: ExitCode.BadInput });
  }
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Parses and validates a metadata.json text; errors name the file and the failing field. */
export function parseMetadata(text: string, file = METADATA_FILE): ModelMetadata {
  return parseJsonText(text, ModelMetadata, file, (message) => new ModelLoadError(message, { file }));
}

export async function readMetadata(dir: string): Promise<ModelMetadata> {
  const file = join(dir, METADATA_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new ModelLoadError(`${file}: missing or unreadable`, { file });
  }
  return parseMetadata(text, file);
}

/** The sha256 that identifies a version: the hash of model.onnx. */
export function artifactSha256(meta: ModelMetadata): string {
  return meta.files[MODEL_FILE]?.sha256 ?? '';
}

/** What was found for a file listed in metadata.json: its size, and its sha256 when it was hashed. */
export interface FoundFile {
  size: number;
  sha256?: string;
}

/**
 * Checks a file listed in `metadata.files` against what was found in `dir` (undefined: missing). Not listed,
 * missing, a sha256 or size that differs (or, when only the size is known, a size that differs) is a ModelLoadError
 * naming the file.
 */
export function checkListedFile(dir: string, metadata: ModelMetadata, name: string, found: FoundFile | undefined): void {
  const expected = listedEntry(dir, metadata, name);
  const file = join(dir, name);
  if (!found) throw new ModelLoadError(`${file}: missing (listed in ${METADATA_FILE})`, { file });
  if (found.sha256 === undefined) {
    if (found.size !== expected.size) throw new ModelLoadError(`${file}: size ${found.size} differs from metadata (${expected.size})`, { file, expected: expected.size, actual: found.size });
  } else if (found.sha256 !== expected.sha256 || found.size !== expected.size) {
    throw new ModelLoadError(`${file}: sha256 mismatch (metadata ${expected.sha256}, file ${found.sha256})`, { file, expected: expected.sha256, actual: found.sha256 });
  }
}

/** `loadModelArtifact`'s checks on files already scanned (size and sha256 by `/`-separated path): model.onnx listed, every listed file found and matching. */
export function checkListedFiles(dir: string, metadata: ModelMetadata, found: Readonly<Record<string, FoundFile>>): void {
  listedEntry(dir, metadata, MODEL_FILE);
  for (const name of Object.keys(metadata.files)) checkListedFile(dir, metadata, name, Object.hasOwn(found, name) ? found[name] : undefined);
}

/** The metadata's entry for `name`; a ModelLoadError naming metadata.json when it does not list it. */
function listedEntry(dir: string, metadata: ModelMetadata, name: string): ModelMetadata['files'][string] {
  const expected = metadata.files[name];
  if (!expected) throw new ModelLoadError(`${join(dir, METADATA_FILE)}: files does not list ${name}`, { file: join(dir, METADATA_FILE) });
  return expected;
}

/**
 * Loads a version directory and verifies every file listed in its metadata (size and sha256),
 * so a server never starts on a corrupted or mismatched model.
 */
export async function loadModelArtifact(dir: string): Promise<{ dir: string; metadata: ModelMetadata }> {
  const metadata = await readMetadata(dir);
  listedEntry(dir, metadata, MODEL_FILE);
  for (const name of Object.keys(metadata.files)) {
    const file = join(dir, name);
    const size = await stat(file).then((s) => s.size, () => undefined);
    checkListedFile(dir, metadata, name, size === undefined ? undefined : { size, sha256: await sha256File(file) });
  }
  return { dir, metadata };
}

/** Versions bundled under a model directory, newest last (versions sort as strings). */
export async function listVersionDirs(modelDir: string): Promise<string[]> {
  const entries = await readdir(modelDir, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory() && VersionString.safeParse(e.name).success).map((e) => e.name).sort();
}

/** The newest version directory under `modelDir` (versions sort by time), or undefined when there is none. */
export async function newestVersionDir(modelDir: string): Promise<string | undefined> {
  const newest = (await listVersionDirs(modelDir)).at(-1);
  return newest === undefined ? undefined : join(modelDir, newest);
}
