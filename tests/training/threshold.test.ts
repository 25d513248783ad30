// Threshold selection on P(negative): best F1 of the negative class subject to a recall floor.
import { describe, expect, it } from 'vitest';
import { searchThreshold, shortestDecimalBetween } from '../../models/training/threshold.js';

// P(negative) and labels (0 = negative): negatives at 0.9, 0.8, 0.6, 0.2; positives at 0.7, 0.3, 0.1.
const p = [0.9, 0.8, 0.7, 0.6, 0.3, 0.2, 0.1];
const y = [0, 0, 1, 0, 1, 0, 1];

describe('threshold search', () => {
  it('tries every cut and reports precision, recall and F1 of the negative class', () => {
    const { candidates } = searchThreshold(p, y, 0);
    expect(candidates.map((c) => c.predictedNegative)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    // Cut after 0.6: 3 of 4 predicted are negative, 3 of 4 negatives found.
    expect(candidates[3]).toMatchObject({ threshold: 0.4, precision: 0.75, recall: 0.75, f1: 0.75 });
  });

  it('maximises F1 without a recall floor', () => {
    // F1 per cut: 0.4, 0.667, 0.571, 0.75, 0.667, 0.8, 0.727 → the cut predicting 6 rows.
    expect(searchThreshold(p, y, 0).chosen).toMatchObject({ predictedNegative: 6, recall: 1 });
  });

  it('respects the recall floor', () => {
    const { chosen } = searchThreshold([0.9, 0.8, 0.7, 0.1], [0, 0, 1, 0], 0.9);
    // Only the cut that includes 0.1 reaches recall 1 ≥ 0.9, although stopping after 0.8 has higher F1.
    expect(chosen.recall).toBe(1);
    expect(chosen.threshold).toBeLessThanOrEqual(0.1);
  });

  it('puts the threshold strictly above the next lower score and at or below the cut score', () => {
    const { candidates } = searchThreshold(p, y, 0);
    candidates.slice(0, -1).forEach((c, i) => {
      expect(c.threshold).toBeLessThanOrEqual(p[i]!);
      expect(c.threshold).toBeGreaterThan(p[i + 1]!);
    });
  });

  it('picks the decimal with the fewest digits in (lo, hi]', () => {
    expect(shortestDecimalBetween(0.37, 0.4)).toBe(0.4);
    expect(shortestDecimalBetween(0.371, 0.3789)).toBe(0.372);
    expect(shortestDecimalBetween(0.1234, 0.1235)).toBe(0.1235);
  });
});
