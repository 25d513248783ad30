// Cross-validated isotonic calibration with scikit-learn's CalibratedClassifierCV(method="isotonic", cv=k,
// ensemble=True) semantics: for each StratifiedKFold split, fit the logistic regression on the training part and an
// isotonic regression of the held-out part's decision function against its labels; predict by averaging the k
// calibrated P(positive).
import { selectRows, type Csr } from './csr.js';
import { stratifiedKFold } from './folds.js';
import { fitIsotonic, predictIsotonic, type IsotonicFit } from './isotonic.js';
import { decisionFunction, fitLogReg, type LogRegFit, type LogRegModel } from './logreg.js';

/** scikit-learn class_weight: null (all 1), "balanced" (n / (2·n_class) on the data being fitted), or explicit. */
export type ClassWeight = null | 'balanced' | { negative: number; positive: number };

export interface CalibratedOptions {
  C: number;
  classWeight: ClassWeight;
  folds: number;
  gtol?: number;
  /** Called after each fold (progress). */
  onFold?: (fold: number, fit: LogRegFit) => void;
}

export interface CalibratedFold extends LogRegModel {
  isotonic: IsotonicFit;
}

export interface CalibratedModel {
  folds: CalibratedFold[];
  /** The test fold of every training row, and its held-out decision value and calibrated P(positive). */
  testFold: Int32Array;
  heldOutDecision: Float64Array;
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

export function fitCalibratedCV(X: Csr, y: Uint8Array, opts: CalibratedOptions): CalibratedModel {
  const testFold = stratifiedKFold(y, opts.folds);
  const folds: CalibratedFold[] = [];
  const fits: LogRegFit[] = [];
  const heldOutDecision = new Float64Array(X.nRows);
  const heldOutProbability = new Float64Array(X.nRows);
  let warm: LogRegModel | undefined;
  for (let f = 0; f < opts.folds; f++) {
    const trainRows = rowsWhere(testFold, (k) => k !== f);
    const testRows = rowsWhere(testFold, (k) => k === f);
    const yTrain = pick(y, trainRows);
    const fit = fitLogReg(selectRows(X, trainRows), yTrain, { C: opts.C, sampleWeight: sampleWeights(yTrain, opts.classWeight), gtol: opts.gtol, init: warm });
    warm = fit;
    fits.push(fit);
    opts.onFold?.(f, fit);
    const decision = decisionFunction(selectRows(X, testRows), fit);
    const isotonic = fitIsotonic(decision, pick(y, testRows));
    folds.push({ coef: fit.coef, intercept: fit.intercept, isotonic });
    testRows.forEach((i, r) => {
      heldOutDecision[i] = decision[r];
      heldOutProbability[i] = predictIsotonic(isotonic, decision[r]);
    });
  }
  return { folds, testFold, heldOutDecision, heldOutProbability, fits };
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
