// Cross-validated isotonic calibration with scikit-learn's CalibratedClassifierCV(method="isotonic", cv=k,
// ensemble=True) semantics: for each StratifiedKFold split, fit the logistic regression on the training part and an
// isotonic regression of the held-out part's decision function against its labels; predict by averaging the k
// calibrated P(positive). Folds are fitted independently (no warm start), on worker threads when there are cores.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { projectRoot } from '../../lib/paths.js';
import { selectRows, type Csr } from './csr.js';
import type { FoldJob, FoldResult } from './fold-worker.js';
import { stratifiedKFold } from './folds.js';
import { logCountRatio, scaleColumns } from './nb-scaling.js';
import { fitIsotonic, predictIsotonic, type IsotonicFit } from './isotonic.js';
import { decisionFunction, fitLogReg, type LogRegFit, type LogRegModel } from './logreg.js';

/** scikit-learn class_weight: null (all 1), "balanced" (n / (2·n_class) on the data being fitted), or explicit. */
export type ClassWeight = null | 'balanced' | { negative: number; positive: number };

export interface CalibratedOptions {
  C: number;
  classWeight: ClassWeight;
  folds: number;
  gtol?: number;
  /** Naive-Bayes log-count-ratio scaling with this smoothing α (computed on each fold's training part); null = off. */
  nbAlpha?: number | null;
  /** Worker threads fitting folds (default: available cores, at most 4); results do not depend on it. */
  workers?: number;
  /** Called after each fold is fitted (progress; folds may finish out of order). */
  onFold?: (fold: number, fit: LogRegFit) => void;
}

export interface CalibratedFold extends LogRegModel {
  isotonic: IsotonicFit;
}

export interface CalibratedModel {
  folds: CalibratedFold[];
  /** Every training row's calibrated P(positive) from the fold that held it out. */
  heldOutProbability: Float64Array;
  fits: LogRegFit[];
}

export function sampleWeights(y: Uint8Array, classWeight: ClassWeight): Float64Array | undefined {
  if (classWeight === null) return undefined;
  let wNeg: number;
  let wPos: number;
  if (classWeight === 'balanced') {
    let pos = 0;
    for (let i = 0; i < y.length; i++) pos += y[i];
    wNeg = y.length / (2 * (y.length - pos));
    wPos = y.length / (2 * pos);
  } else {
    wNeg = classWeight.negative;
    wPos = classWeight.positive;
  }
  const s = new Float64Array(y.length);
  for (let i = 0; i < y.length; i++) s[i] = y[i] ? wPos : wNeg;
  return s;
}

function rowsWhere(folds: Int32Array, pred: (f: number) => boolean): Int32Array {
  const rows: number[] = [];
  for (let i = 0; i < folds.length; i++) if (pred(folds[i])) rows.push(i);
  return Int32Array.from(rows);
}

function pick(y: Uint8Array, rows: Int32Array): Uint8Array {
  const out = new Uint8Array(rows.length);
  for (let r = 0; r < rows.length; r++) out[r] = y[rows[r]];
  return out;
}

/** The fold worker's compiled file, when there is one (dist/ is built from the sources before tests and runs). */
function foldWorkerFile(): URL | undefined {
  const sibling = new URL('./fold-worker.js', import.meta.url);
  if (existsSync(sibling)) return sibling;
  const built = join(projectRoot(), 'dist', 'models', 'training', 'fold-worker.js');
  return existsSync(built) ? pathToFileURL(built) : undefined;
}

/** Fits the fold jobs on up to `workers` worker threads (in this thread when 1 or no worker file). */
async function fitFolds(jobs: FoldJob[], workers: number, onFit: (fold: number, fit: LogRegFit) => void): Promise<LogRegFit[]> {
  const fits: LogRegFit[] = new Array(jobs.length);
  const file = workers > 1 ? foldWorkerFile() : undefined;
  if (!file) {
    for (const job of jobs) onFit(job.fold, (fits[job.fold] = fitLogReg(job.X, job.y, job.opts)));
    return fits;
  }
  const queue = [...jobs];
  const run = async () => {
    const worker = new Worker(file);
    try {
      for (let job = queue.shift(); job; job = queue.shift()) {
        const result = await new Promise<FoldResult>((resolve, reject) => {
          worker.once('message', resolve);
          worker.once('error', reject);
          worker.postMessage(job, [job.X.indptr.buffer, job.X.indices.buffer, job.X.data.buffer, job.y.buffer] as ArrayBuffer[]);
        });
        worker.removeAllListeners('error');
        onFit(result.fold, (fits[result.fold] = result.fit));
      }
    } finally {
      await worker.terminate();
    }
  };
  await Promise.all(Array.from({ length: Math.min(workers, jobs.length) }, run));
  return fits;
}

export async function fitCalibratedCV(X: Csr, y: Uint8Array, opts: CalibratedOptions): Promise<CalibratedModel> {
  const testFold = stratifiedKFold(y, opts.folds);
  const jobs: FoldJob[] = [];
  const ratios: (Float64Array | undefined)[] = [];
  for (let f = 0; f < opts.folds; f++) {
    const trainRows = rowsWhere(testFold, (k) => k !== f);
    const yTrain = pick(y, trainRows);
    let XTrain = selectRows(X, trainRows);
    const r = opts.nbAlpha == null ? undefined : logCountRatio(XTrain, yTrain, opts.nbAlpha);
    if (r) XTrain = scaleColumns(XTrain, r);
    ratios.push(r);
    jobs.push({ fold: f, X: XTrain, y: yTrain, opts: { C: opts.C, sampleWeight: sampleWeights(yTrain, opts.classWeight), gtol: opts.gtol } });
  }
  const fits = await fitFolds(jobs, opts.workers ?? defaultWorkers(), (f, fit) => opts.onFold?.(f, fit));
  // A fold fitted on NB-scaled features is the linear model r ⊙ w on the unscaled ones.
  fits.forEach((fit, f) => {
    const r = ratios[f];
    if (r) for (let j = 0; j < r.length; j++) fit.coef[j] *= r[j]!;
  });
  const folds: CalibratedFold[] = [];
  const heldOutProbability = new Float64Array(X.nRows);
  fits.forEach((fit, f) => {
    const testRows = rowsWhere(testFold, (k) => k === f);
    const decision = decisionFunction(selectRows(X, testRows), fit);
    const isotonic = fitIsotonic(decision, pick(y, testRows));
    folds.push({ coef: fit.coef, intercept: fit.intercept, isotonic });
    testRows.forEach((i, r) => {
      heldOutProbability[i] = predictIsotonic(isotonic, decision[r]);
    });
  });
  return { folds, heldOutProbability, fits };
}

/** Worker threads for the folds: the cores this process may use, at most 4. */
export function defaultWorkers(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

/** Fold-averaged calibrated P(positive) of every row. */
export function predictCalibrated(folds: readonly CalibratedFold[], X: Csr): Float64Array {
  const out = new Float64Array(X.nRows);
  for (const fold of folds) {
    const d = decisionFunction(X, fold);
    for (let i = 0; i < X.nRows; i++) out[i] += predictIsotonic(fold.isotonic, d[i]);
  }
  for (let i = 0; i < X.nRows; i++) out[i] /= folds.length;
  return out;
}
