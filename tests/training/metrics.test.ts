// Evaluation metrics on P(negative): per-class precision/recall/F1, confusion matrix, Brier score, ECE.
import { describe, expect, it } from 'vitest';
import { evaluateScores, reliability } from '../../models/training/metrics.js';

describe('evaluation metrics', () => {
  const p = [0.95, 0.6, 0.4, 0.05];
  const y = [0, 1, 0, 1];

  it('counts the confusion matrix with positive as the positive class', () => {
    // At 0.5: predicted negative = rows 0, 1. tn = row 0, fn = row 1 (positive predicted negative), fp = row 2.
    expect(evaluateScores(p, y, 0.5).confusion).toEqual({ tn: 1, fp: 1, fn: 1, tp: 1 });
  });

  it('computes per-class precision, recall and F1', () => {
    const m = evaluateScores([0.9, 0.8, 0.7, 0.2, 0.1], [0, 0, 1, 0, 1], 0.5);
    expect(m.negative).toEqual({ precision: 2 / 3, recall: 2 / 3, f1: 2 / 3 });
    expect(m.positive.precision).toBe(0.5);
    expect(m.positive.recall).toBe(0.5);
  });

  it('computes the Brier score on P(negative)', () => {
    // (0.05² + 0.6² + 0.6² + 0.05²) / 4
    expect(evaluateScores(p, y, 0.5).brier).toBeCloseTo((0.0025 + 0.36 + 0.36 + 0.0025) / 4, 12);
  });

  it('computes the expected calibration error over equal-width bins', () => {
    const r = reliability([0.05, 0.15, 0.12, 0.95], [1, 0, 1, 0]);
    // Bin 0.0–0.1: p 0.05, observed 0 → 0.05·1/4; bin 0.1–0.2: mean 0.135, observed 0.5 → 0.365·2/4;
    // bin 0.9–1.0: 0.95 vs 1 → 0.05·1/4.
    expect(r.ece).toBeCloseTo((0.05 + 0.365 * 2 + 0.05) / 4, 12);
    expect(r.bins[1]).toMatchObject({ count: 2, observed: 0.5 });
  });
});
