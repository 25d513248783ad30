// A loaded model version ready to score: verifies the artifact, opens `model.onnx` in ONNX Runtime and turns
// texts or token rows into P(negative)/P(positive). Explanations use the separate `explain.onnx` graph, opened on
// first use so loading (and the server's cold start) pays only for the scoring graph.
import { createHash } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { checkListedFile, EXPLAIN_FILE, ExplainData, MODEL_FILE, ModelLoadError, readMetadata, type ModelMetadata } from './artifact.js';
import { createPreprocessor, type Preprocessor } from './preprocessing.js';
import type { Explanation } from './scorer.js';
import { parseJsonText } from '../lib/json-file.js';

export const EXPLAIN_MODEL_FILE = 'explain.onnx';
export type { Explanation };

export interface OnnxModel {
  readonly dir: string;
  readonly metadata: ModelMetadata;
  readonly preprocessor: Preprocessor;
  /**
   * Scores token rows (from `preprocessor.tokenize`). Returns the [N,2] `probabilities` buffer row-major:
   * `out[2i]` = P(negative), `out[2i+1]` = P(positive) of row i. `negative` iff out[2i] ≥ metadata.threshold.
   */
  predictTokens(rows: readonly (readonly string[])[]): Promise<Float32Array>;
  /** Same as predictTokens on raw texts (cleaned and tokenised here). */
  predictTexts(texts: readonly string[]): Promise<Float32Array>;
  /** Per row, the present features ranked by |importance| (contribution towards "positive"), at most topK. */
  explainTokens(rows: readonly (readonly string[])[], topK: number): Promise<Explanation[][]>;
  close(): Promise<void>;
}

/** P(negative) of row i of a `predictTokens` result. */
export const pNegativeAt = (probs: Float32Array, i: number): number => probs[2 * i]!;

/** The [N, T] string tensor of token rows: left-aligned, padded with "" (T ≥ 1). */
export function tokensTensor(rows: readonly (readonly string[])[]): ort.Tensor {
  let T = 1;
  for (const r of rows) if (r.length > T) T = r.length;
  const data: string[] = new Array(rows.length * T).fill('');
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    for (let t = 0; t < r.length; t++) data[i * T + t] = r[t]!;
  }
  return new ort.Tensor('string', data, [rows.length, T]);
}

/** The graphs' input: token rows (`tokensTensor`). */
const INPUT = 'tokens';

/**
 * Opens one graph of a model (from `bytes` when given, already read and verified, else from `file`); a file ONNX
 * Runtime rejects, or one without the `tokens` input or the expected output, is a ModelLoadError naming `file`.
 */
export async function openOnnxSession(file: string, output: string, bytes?: Uint8Array): Promise<ort.InferenceSession> {
  let session: ort.InferenceSession;
  const options: ort.InferenceSession.SessionOptions = {
    // One intra-op thread per session: the server scales with concurrent requests instead.
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    // Measured here: session creation is the same at every level (~135 ms for the first session of a process, ORT's
    // one-time initialisation included; ~55 ms after), and 'all' runs a single text in ~54 µs against ~70 for 'basic'.
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  };
  try {
    session = await (bytes ? ort.InferenceSession.create(bytes, options) : ort.InferenceSession.create(file, options));
  } catch (err) {
    throw new ModelLoadError(`${file}: ONNX Runtime cannot load it (${(err as Error).message.split('\n')[0]})`, { file });
  }
  if (!session.inputNames.includes(INPUT) || !session.outputNames.includes(output)) {
    await session.release();
    throw new ModelLoadError(`${file}: not a gym-sentiment-guard model (inputs ${session.inputNames.join(',')}, outputs ${session.outputNames.join(',')}; expected ${INPUT} -> ${output})`, { file });
  }
  return session;
}

/** Fixed cost of one session.run in padded token positions (measured order of magnitude). */
const RUN_COST_POSITIONS = 128;
const MAX_CHUNK_ROWS = 512;

/**
 * Splits rows into runs so that padding to the longest row of a run does not dominate: rows sorted by length,
 * cut where the padded positions saved outweigh the cost of another run (dynamic programming over the sorted
 * lengths). Returns groups of row indices; one group when the rows have similar lengths.
 */
export function planRuns(lengths: readonly number[]): number[][] {
  const n = lengths.length;
  if (n <= 1) return n ? [[0]] : [];
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => lengths[a]! - lengths[b]!);
  const len = order.map((i) => Math.max(1, lengths[i]!));
  const best = new Float64Array(n + 1);
  const cut = new Int32Array(n + 1);
  for (let j = 1; j <= n; j++) {
    best[j] = Infinity;
    for (let i = Math.max(0, j - MAX_CHUNK_ROWS); i < j; i++) {
      const cost = best[i] + RUN_COST_POSITIONS + (j - i) * len[j - 1]!;
      if (cost < best[j]) {
        best[j] = cost;
        cut[j] = i;
      }
    }
  }
  const runs: number[][] = [];
  for (let j = n; j > 0; j = cut[j]) runs.unshift(order.slice(cut[j], j));
  return runs;
}

/** Runs a `model.onnx` session: the [N,2] probabilities buffer of the token rows (row order preserved). */
export async function runProbabilities(session: ort.InferenceSession, rows: readonly (readonly string[])[]): Promise<Float32Array> {
  if (rows.length === 0) return new Float32Array(0);
  const runs = planRuns(rows.map((r) => r.length));
  if (runs.length === 1) {
    const out = await session.run({ tokens: tokensTensor(rows) }, ['probabilities']);
    return out.probabilities!.data as Float32Array;
  }
  const result = new Float32Array(rows.length * 2);
  for (const run of runs) {
    const out = await session.run({ tokens: tokensTensor(run.map((i) => rows[i]!)) }, ['probabilities']);
    const probs = out.probabilities!.data as Float32Array;
    run.forEach((i, k) => {
      result[2 * i] = probs[2 * k]!;
      result[2 * i + 1] = probs[2 * k + 1]!;
    });
  }
  return result;
}

/** A whole file in one read (one thread-pool round trip, not one per 64 KiB chunk); undefined when it is missing. */
async function readWhole(file: string): Promise<Buffer | undefined> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const { size } = await fh.stat();
    const buf = Buffer.allocUnsafe(size);
    let n = 0;
    while (n < size) {
      const { bytesRead } = await fh.read(buf, n, size - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
    }
    return n === size ? buf : buf.subarray(0, n);
  } finally {
    await fh.close();
  }
}

/**
 * The bytes of a file listed in the metadata, checked against its size and sha256 there (`checkListedFile`, as
 * `loadModelArtifact` does): ONNX Runtime then loads exactly the bytes that were verified.
 */
async function readVerified(dir: string, name: string, metadata: ModelMetadata, bytes?: Promise<Buffer | undefined>): Promise<Buffer> {
  const buf = await (bytes ?? readWhole(join(dir, name)));
  checkListedFile(dir, metadata, name, buf && { size: buf.length, sha256: createHash('sha256').update(buf).digest('hex') });
  return buf!;
}

/**
 * Every listed file but model.onnx (read and verified whole) must exist with its listed size (a missing or truncated
 * file stops the load at once).
 */
async function checkListedSizes(dir: string, metadata: ModelMetadata): Promise<void> {
  await Promise.all(
    Object.keys(metadata.files)
      .filter((name) => name !== MODEL_FILE)
      .map(async (name) => {
        const size = await stat(join(dir, name)).then((s) => s.size, () => undefined);
        checkListedFile(dir, metadata, name, size === undefined ? undefined : { size });
      }),
  );
}

async function readExplainData(dir: string, metadata: ModelMetadata): Promise<ExplainData> {
  const file = join(dir, EXPLAIN_FILE);
  const bytes = metadata.files[EXPLAIN_FILE] ? await readVerified(dir, EXPLAIN_FILE, metadata) : await readWhole(file);
  const notJson = (reason: string) => new ModelLoadError(`${file}: missing or not JSON (${reason})`, { file });
  if (!bytes) throw notJson('no such file');
  return parseJsonText(bytes.toString('utf8'), ExplainData, file, (message, syntaxError) => (syntaxError ? notJson(syntaxError.message) : new ModelLoadError(message, { file })));
}

/**
 * Loads a version directory: metadata.json validated, model.onnx read once, verified (size, sha256) and opened from
 * those bytes. Every other listed file must be present with its listed size; the explain files are fully verified
 * (sha256) when the explainer opens, on the first explanation — so a start pays for hashing only the scoring graph.
 */
export async function loadOnnxModel(dir: string): Promise<OnnxModel> {
  const modelBytes = readWhole(join(dir, MODEL_FILE)); // read while the metadata is parsed
  modelBytes.catch(() => undefined);
  const metadata = await readMetadata(dir);
  const [bytes] = await Promise.all([readVerified(dir, MODEL_FILE, metadata, modelBytes), checkListedSizes(dir, metadata)]);
  const preprocessor = createPreprocessor(metadata.preprocessing);
  const session = await openOnnxSession(join(dir, MODEL_FILE), 'probabilities', bytes);
  let explainer: Promise<{ session: ort.InferenceSession; features: string[] }> | undefined;
  const openExplainer = () =>
    (explainer ??= (async () => {
      const data = await readExplainData(dir, metadata);
      const file = join(dir, EXPLAIN_MODEL_FILE);
      const graph = metadata.files[EXPLAIN_MODEL_FILE] ? await readVerified(dir, EXPLAIN_MODEL_FILE, metadata) : undefined;
      const s = await openOnnxSession(file, 'contributions', graph);
      return { session: s, features: data.features };
    })());

  const predictTokens = (rows: readonly (readonly string[])[]) => runProbabilities(session, rows);

  return {
    dir,
    metadata,
    preprocessor,
    predictTokens,
    predictTexts: (texts) => predictTokens(texts.map((t) => preprocessor.tokenize(t))),
    async explainTokens(rows, topK) {
      if (rows.length === 0) return [];
      const { session: s, features } = await openExplainer();
      const out = await s.run({ tokens: tokensTensor(rows) }, ['contributions']);
      const values = out.contributions!.data as Float32Array;
      const V = features.length;
      return rows.map((_, i) => {
        const found: Explanation[] = [];
        for (let j = i * V, end = j + V; j < end; j++) {
          const v = values[j]!;
          if (v !== 0) found.push({ feature: features[j - i * V]!, importance: v });
        }
        found.sort((a, b) => Math.abs(b.importance) - Math.abs(a.importance) || (a.feature < b.feature ? -1 : 1));
        return found.slice(0, topK);
      });
    },
    async close() {
      await session.release();
      if (explainer) await (await explainer.catch(() => undefined))?.session.release();
    },
  };
}
