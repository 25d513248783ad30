// The training pipeline behind `gsg train`: read the CSVs, fit the TF-IDF blocks, fit the cross-validated calibrated
// logistic regression, export the ONNX graphs, choose the threshold on val through ONNX Runtime (exactly as the
// server scores), write report, figures and metadata into a temporary directory and rename it into place, so a
// failed run leaves nothing behind (and a killed run's temporary directory is removed by the next run).
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { BadInputError, GsgError } from '../../lib/errors.js';
import { ExitCode } from '../../lib/exit-codes.js';
import { projectRoot } from '../../lib/paths.js';
import { pidAlive } from '../../lib/process.js';
import { EXPLAIN_FILE, METADATA_FILE, MODEL_FILE, ModelMetadata, VersionString, type EvalMetrics } from '../artifact.js';
import { EXPLAIN_MODEL_FILE, openOnnxSession, runProbabilities } from '../onnx-model.js';
import { createPreprocessor, defaultPreprocessingSettings, type PreprocessingSettings } from '../preprocessing.js';
import type { ModelParams } from '../scorer.js';
import { fitCalibratedCV, type CalibratedModel } from './calibrated.js';
import { parsePunctuationClass, parseWordList, readLabelledCsv, readTextFile, type LabelledData } from './dataset.js';
import { reliabilitySvg, prCurveSvg } from './figures.js';
import type { LogRegFit } from './logreg.js';
import { evaluateScores, reliability } from './metrics.js';
import { buildExplainOnnx, buildModelOnnx, ML_OPSET, OPSET } from './onnx-graph.js';
import { RECIPE, type Recipe } from './recipe.js';
import { renderReport } from './report.js';
import type { Csr } from './csr.js';
import { fitFeatureSpace, transform, type FeatureSpace } from './tfidf.js';
import { searchThreshold, type ThresholdSearch } from './threshold.js';

export const MODEL_NAME = 'sentiment-logreg';
export const REPORT_FILE = 'report.md';
export const RELIABILITY_FILE = 'reliability.svg';
export const PR_CURVE_FILE = 'pr-curve.svg';
export const DATA_FILES = { train: 'train.csv', val: 'val.csv', stopWords: 'stopwords_es_safe.txt', punctuation: 'structural_punctuation.txt' } as const;

/** The version directory already exists (exit code 4). */
export class VersionExistsError extends GsgError {
  constructor(dir: string) {
    super(`${dir} already exists: choose another --model-version`, { code: 'conflict', context: { dir }, exitCode: ExitCode.Conflict });
  }
}

export interface ProgressEvent {
  stage: string;
  message: string;
  seconds: number;
}

export interface TrainOptions {
  dataDir: string;
  outDir: string;
  version?: string;
  recipe?: Recipe;
  progress?: (event: ProgressEvent) => void;
  now?: () => Date;
  /** Worker threads for the calibration folds (default: available cores, at most 4); the model does not depend on it. */
  workers?: number;
}

export interface TrainingData {
  train: LabelledData;
  val: LabelledData;
  stopWords: string[];
  preprocessing: PreprocessingSettings;
  /** sha256 and row count of each CSV. */
  files: Record<string, { sha256: string; rows: number }>;
}

export interface FittedModel {
  space: FeatureSpace;
  calibrated: CalibratedModel;
  params: ModelParams;
}

export async function loadTrainingData(dataDir: string): Promise<TrainingData> {
  const path = (f: string) => join(dataDir, f);
  const [train, val, stopText, punctText] = await Promise.all([
    readLabelledCsv(path(DATA_FILES.train)),
    readLabelledCsv(path(DATA_FILES.val)),
    readTextFile(path(DATA_FILES.stopWords)),
    readTextFile(path(DATA_FILES.punctuation)),
  ]);
  const files: TrainingData['files'] = {};
  for (const d of [train, val]) files[d.file.slice(d.file.lastIndexOf('/') + 1)] = { sha256: d.sha256, rows: d.texts.length };
  return {
    train,
    val,
    stopWords: parseWordList(stopText),
    preprocessing: defaultPreprocessingSettings(parsePunctuationClass(punctText, path(DATA_FILES.punctuation))),
    files,
  };
}

export interface FitProgress {
  workers?: number;
  onVectorised?: (space: FeatureSpace, X: Csr) => void;
  onFold?: (fold: number, fit: LogRegFit) => void;
}

/** Fits the feature blocks and the calibrated classifier on tokenised training texts. */
export async function fitModel(tokens: readonly (readonly string[])[], labels: Uint8Array, stopWords: readonly string[], recipe: Recipe, progress: FitProgress = {}): Promise<FittedModel> {
  const space = fitFeatureSpace(
    tokens,
    recipe.blocks.map((b) => ({ ngramRange: b.ngramRange, minDf: b.minDf, maxDf: b.maxDf, sublinearTf: b.sublinearTf, stopWords: b.useStopWords ? stopWords : [] })),
  );
  const X = transform(space, tokens);
  progress.onVectorised?.(space, X);
  const calibrated = await fitCalibratedCV(X, labels, { C: recipe.C, classWeight: recipe.classWeight, nbAlpha: recipe.nbAlpha, folds: recipe.folds, gtol: recipe.gtol, workers: progress.workers, onFold: progress.onFold });
  return { space, calibrated, params: toModelParams(space, calibrated) };
}

export function toModelParams(space: FeatureSpace, calibrated: CalibratedModel): ModelParams {
  const F = calibrated.folds.length;
  const V = space.size;
  const idf = new Float64Array(V);
  space.blocks.forEach((b, k) => idf.set(b.idf, space.offsets[k]));
  const coef = new Float64Array(V * F);
  calibrated.folds.forEach((fold, f) => {
    for (let j = 0; j < V; j++) coef[j * F + f] = fold.coef[j];
  });
  return {
    blocks: space.blocks.map((b) => ({ terms: b.terms })),
    idf,
    coef,
    intercept: Float64Array.from(calibrated.folds.map((f) => f.intercept)),
    isotonic: calibrated.folds.map((f) => ({ x: f.isotonic.x, y: f.isotonic.y })),
  };
}

/** `<UTC date>.<NNN>`, the next number free in outDir. */
export async function nextVersion(outDir: string, now: Date): Promise<string> {
  const date = now.toISOString().slice(0, 10);
  const entries = await readdir(outDir).catch(() => [] as string[]);
  let max = 0;
  for (const e of entries) {
    const m = new RegExp(`^${date}\\.(\\d{3})$`).exec(e);
    if (m) max = Math.max(max, Number(m[1]));
  }
  return `${date}.${String(max + 1).padStart(3, '0')}`;
}

async function packageVersion(name: string): Promise<string> {
  try {
    return (JSON.parse(await readFile(join(projectRoot(), 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

async function packageVersions(): Promise<Record<string, string>> {
  const own = JSON.parse(await readFile(join(projectRoot(), 'package.json'), 'utf8')) as { name: string; version: string };
  const out: Record<string, string> = { [own.name]: own.version, node: process.versions.node };
  for (const p of ['onnxruntime-node', 'protobufjs', 'csv-parse', 'zod']) out[p] = await packageVersion(p);
  return out;
}

/** Fold-averaged coefficients as the graph stores them (float32), for explain.json. */
function explainJson(params: ModelParams): string {
  const F = params.intercept.length;
  const V = params.idf.length;
  const coefficients: number[] = new Array(V);
  for (let j = 0; j < V; j++) {
    let s = 0;
    for (let f = 0; f < F; f++) s += Math.fround(params.coef[j * F + f]);
    coefficients[j] = Number((s / F).toPrecision(8));
  }
  const intercept = Number((params.intercept.reduce((a, b) => a + b, 0) / F).toPrecision(12));
  return JSON.stringify({ features: params.blocks.flatMap((b) => b.terms), coefficients, intercept });
}

/** Removes `.tmp-<version>-<pid>` directories left by runs that were killed (their process is gone). */
export async function removeStaleTempDirs(outDir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(outDir).catch(() => [] as string[])) {
    const m = /^\.tmp-.+-(\d+)$/.exec(name);
    if (m && Number(m[1]) !== process.pid && !pidAlive(Number(m[1]))) {
      await rm(join(outDir, name), { recursive: true, force: true });
      removed.push(name);
    }
  }
  return removed;
}

export interface TrainResult {
  dir: string;
  version: string;
  metadata: ModelMetadata;
  search: ThresholdSearch;
}

export async function trainModel(opts: TrainOptions): Promise<TrainResult> {
  const recipe = opts.recipe ?? RECIPE;
  const now = opts.now ?? (() => new Date());
  const t0 = performance.now();
  let tStage = t0;
  const progress = (stage: string, message: string) => {
    const t = performance.now();
    opts.progress?.({ stage, message, seconds: (t - tStage) / 1000 });
    tStage = t;
  };
  const outDir = resolve(opts.outDir);
  const started = now();
  const version = opts.version ?? (await nextVersion(outDir, started));
  const parsedVersion = VersionString.safeParse(version);
  if (!parsedVersion.success) throw new BadInputError(`--model-version: ${parsedVersion.error.issues[0]!.message}`);
  const finalDir = join(outDir, version);
  if (await stat(finalDir).catch(() => undefined)) throw new VersionExistsError(finalDir);

  const data = await loadTrainingData(opts.dataDir);
  const pre = createPreprocessor(data.preprocessing);
  const trainTokens = data.train.texts.map((t) => pre.tokenize(t));
  const valTokens = data.val.texts.map((t) => pre.tokenize(t));
  progress('read', `train ${data.train.texts.length} rows, val ${data.val.texts.length} rows`);

  const fitted = await fitModel(trainTokens, data.train.labels, data.stopWords, recipe, {
    workers: opts.workers,
    onVectorised: (s, X) => progress('vectorise', `vocabulary ${s.blocks.map((b) => b.terms.length).join(' + ')} = ${s.size} terms, ${X.data.length} non-zeros`),
    onFold: (f, fit) => progress(`fold ${f + 1}/${recipe.folds}`, `L-BFGS ${fit.iterations} iterations, ${fit.converged ? 'converged' : 'NOT converged'} (gradient ${fit.gradNorm.toExponential(1)})`),
  });
  const { calibrated, params } = fitted;
  const space = fitted.space;
  progress('calibrate', `isotonic knots per fold: ${calibrated.folds.map((f) => f.isotonic.x.length).join(', ')}`);

  await mkdir(outDir, { recursive: true });
  await removeStaleTempDirs(outDir);
  const tmpDir = join(outDir, `.tmp-${version}-${process.pid}`);
  await rm(tmpDir, { recursive: true, force: true });
  await mkdir(tmpDir);
  try {
    // Every file but metadata.json, with the size and sha256 of the bytes written (metadata.json lists them).
    const files: ModelMetadata['files'] = {};
    const write = async (name: string, data: string | Uint8Array) => {
      const bytes = typeof data === 'string' ? Buffer.from(data) : data;
      await writeFile(join(tmpDir, name), bytes);
      files[name] = { sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length };
    };
    const info = { modelName: MODEL_NAME, version };
    await write(MODEL_FILE, buildModelOnnx(params, info));
    await write(EXPLAIN_MODEL_FILE, buildExplainOnnx(params, info));
    await write(EXPLAIN_FILE, explainJson(params));
    progress('export', `${MODEL_FILE}, ${EXPLAIN_MODEL_FILE}, ${EXPLAIN_FILE}`);

    const session = await openOnnxSession(join(tmpDir, MODEL_FILE), 'probabilities');
    const probs = await runProbabilities(session, valTokens).finally(() => session.release());
    const pNeg = new Float64Array(valTokens.length);
    for (let i = 0; i < pNeg.length; i++) pNeg[i] = probs[2 * i]!;
    const search = searchThreshold(pNeg, data.val.labels, recipe.minRecall);
    const val: EvalMetrics = evaluateScores(pNeg, data.val.labels, search.chosen.threshold);
    progress('threshold', `${search.chosen.threshold} (F1_neg ${val.negative.f1.toFixed(4)}, recall_neg ${val.negative.recall.toFixed(4)}; ${search.candidates.length} cuts searched)`);

    const rel = reliability(pNeg, data.val.labels);
    const cvPNeg = calibrated.heldOutProbability.map((p) => 1 - p);
    const cv = evaluateScores(cvPNeg, data.train.labels, search.chosen.threshold);
    await write(RELIABILITY_FILE, reliabilitySvg(rel.bins, rel.ece, valTokens.length));
    await write(PR_CURVE_FILE, prCurveSvg(search.candidates, search.chosen, recipe.minRecall));
    await write(REPORT_FILE, renderReport({ version, recipe, space, val, cv, search, reliability: rel.bins, fits: calibrated.fits, files: data.files }));
    const [uni, ng] = recipe.blocks;
    const block = (b: typeof uni, k: number) => ({
      ngram_range: b.ngramRange,
      min_df: b.minDf,
      max_df: b.maxDf,
      sublinear_tf: b.sublinearTf,
      stop_words: b.useStopWords ? data.stopWords.length : 0,
      vocabulary_size: space.blocks[k]!.terms.length,
    });
    const metadata = ModelMetadata.parse({
      schema_version: 1,
      model_name: MODEL_NAME,
      version,
      created_at: started.toISOString(),
      threshold: search.chosen.threshold,
      target_class: 'negative',
      label_mapping: { negative: 0, positive: 1 },
      preprocessing: data.preprocessing,
      features: { unigrams: block(uni, 0), ngrams: block(ng, 1), vocabulary_size: space.size },
      classifier: { type: 'logistic_regression', penalty: 'l2', C: recipe.C, class_weight: recipe.classWeight, nb_scaling: recipe.nbAlpha === null ? null : { alpha: recipe.nbAlpha }, solver: `lbfgs (gym-sentiment-guard, gtol ${recipe.gtol})` },
      calibration: { method: 'isotonic', cv: recipe.folds, ensemble: true },
      onnx: { opset: OPSET, ml_opset: ML_OPSET, input: 'tokens', outputs: { probabilities: 'probabilities', contributions: 'contributions' }, explain_model: EXPLAIN_MODEL_FILE },
      metrics: { val, cv_train: cv },
      files: Object.fromEntries(Object.keys(files).sort().map((name) => [name, files[name]!])),
      training_data: data.files,
      packages: await packageVersions(),
      training_time_seconds: Number(((performance.now() - t0) / 1000).toFixed(3)),
    });
    await writeFile(join(tmpDir, METADATA_FILE), JSON.stringify(metadata, null, 2) + '\n');
    await rename(tmpDir, finalDir).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOTEMPTY' || err.code === 'EEXIST') throw new VersionExistsError(finalDir);
      throw err;
    });
    progress('write', finalDir);
    return { dir: finalDir, version, metadata, search };
  } catch (err) {
    await rm(tmpDir, { recursive: true, force: true });
    throw err;
  }
}

