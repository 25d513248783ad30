// Evaluation of P(negative) scores against labels at a threshold: per-class precision/recall/F1, the confusion
// matrix (positive class = "positive", as scikit-learn's confusion_matrix(y, pred).ravel() gives tn, fp, fn, tp),
// Brier score and expected calibration error, both on P(negative). Shared by `gsg train` and `gsg evaluate`.
import type { EvalMetrics } from '../artifact.js';

/** Bins of the expected calibration error (equal width on [0, 1]). */
export const ECE_BINS = 10;

export function f1Score(precision: number, recall: number): number {
  return precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
}

function ratio(a: number, b: number): number {
  return b > 0 ? a / b : 0;
}

/** `labels`: 0 = negative, 1 = positive. A row is predicted negative iff pNegative ≥ threshold. */
export function evaluateScores(pNegative: ArrayLike<number>, labels: ArrayLike<number>, threshold: number): EvalMetrics {
  const n = labels.length;
  let tn = 0;
  let fp = 0;
  let fn = 0;
  let tp = 0;
  let brier = 0;
  for (let i = 0; i < n; i++) {
    const p = pNegative[i];
    const isNeg = labels[i] === 0;
    const predNeg = p >= threshold;
    if (isNeg) predNeg ? tn++ : fp++;
    else predNeg ? fn++ : tp++;
    const e = p - (isNeg ? 1 : 0);
    brier += e * e;
  }
  const negP = ratio(tn, tn + fn);
  const negR = ratio(tn, tn + fp);
  const posP = ratio(tp, tp + fp);
  const posR = ratio(tp, tp + fn);
  return {
    n,
    threshold,
    negative: { precision: negP, recall: negR, f1: f1Score(negP, negR) },
    positive: { precision: posP, recall: posR, f1: f1Score(posP, posR) },
    brier: n ? brier / n : 0,
    ece: reliability(pNegative, labels).ece,
    confusion: { tn, fp, fn, tp },
  };
}

export interface ReliabilityBin {
  lo: number;
  hi: number;
  count: number;
  meanPredicted: number;
  observed: number;
}

/** Reliability of P(negative) in equal-width bins; ece = Σ (count/n)·|observed − mean predicted|. */
export function reliability(pNegative: ArrayLike<number>, labels: ArrayLike<number>, bins = ECE_BINS): { bins: ReliabilityBin[]; ece: number } {
  const count = new Float64Array(bins);
  const sumP = new Float64Array(bins);
  const sumY = new Float64Array(bins);
  for (let i = 0; i < labels.length; i++) {
    const p = pNegative[i];
    const b = Math.min(bins - 1, Math.max(0, Math.floor(p * bins)));
    count[b]++;
    sumP[b] += p;
    sumY[b] += labels[i] === 0 ? 1 : 0;
  }
  const out: ReliabilityBin[] = [];
  let ece = 0;
  for (let b = 0; b < bins; b++) {
    const c = count[b];
    const meanPredicted = c ? sumP[b] / c : 0;
    const observed = c ? sumY[b] / c : 0;
    if (c) ece += (c / labels.length) * Math.abs(observed - meanPredicted);
    out.push({ lo: b / bins, hi: (b + 1) / bins, count: c, meanPredicted, observed });
  }
  return { bins: out, ece };
}
