// Threshold selection on P(negative): among every cut between two distinct scores, the one with the best F1 of the
// negative class subject to recall_neg ≥ a floor. The threshold reported for a cut is the shortest decimal inside
// it, so the choice does not hinge on the last bits of a float.
import { f1Score } from './metrics.js';

export interface ThresholdCandidate {
  threshold: number;
  precision: number;
  recall: number;
  f1: number;
  /** Rows predicted negative. */
  predictedNegative: number;
}

export interface ThresholdSearch {
  chosen: ThresholdCandidate;
  minRecall: number;
  /** Every cut, highest threshold first. */
  candidates: ThresholdCandidate[];
}

/** The decimal with the fewest digits in (lo, hi]. */
export function shortestDecimalBetween(lo: number, hi: number): number {
  for (let digits = 0; digits <= 17; digits++) {
    const scale = 10 ** digits;
    const d = Math.floor(lo * scale + 1) / scale;
    if (d > lo && d <= hi) return d;
  }
  return hi;
}

/** `labels`: 0 = negative, 1 = positive. Ties on F1 go to the higher threshold. */
export function searchThreshold(pNegative: ArrayLike<number>, labels: ArrayLike<number>, minRecall = 0.9): ThresholdSearch {
  const n = labels.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => pNegative[b] - pNegative[a]);
  let negatives = 0;
  for (let i = 0; i < n; i++) if (labels[i] === 0) negatives++;
  const candidates: ThresholdCandidate[] = [];
  let tn = 0;
  let predicted = 0;
  for (let r = 0; r < n; ) {
    const v = pNegative[order[r]!];
    while (r < n && pNegative[order[r]!] === v) {
      if (labels[order[r]!] === 0) tn++;
      predicted++;
      r++;
    }
    const below = r < n ? pNegative[order[r]!] : Math.min(0, v) - 1;
    const precision = tn / predicted;
    const recall = negatives ? tn / negatives : 0;
    const threshold = r < n ? shortestDecimalBetween(below, v) : Math.min(v, 0);
    candidates.push({ threshold: Math.max(0, threshold), precision, recall, f1: f1Score(precision, recall), predictedNegative: predicted });
  }
  let chosen: ThresholdCandidate | undefined;
  for (const c of candidates) if (c.recall >= minRecall && (!chosen || c.f1 > chosen.f1)) chosen = c;
  if (!chosen) throw new Error('no threshold reaches the recall floor');
  return { chosen, minRecall, candidates };
}
