// Isotonic regression with scikit-learn's IsotonicRegression(out_of_bounds="clip") semantics.
import { describe, expect, it } from 'vitest';
import { fitIsotonic, poolAdjacentViolators, predictIsotonic } from '../../models/training/isotonic.js';

describe('isotonic regression', () => {
  it('pools adjacent violators into weighted means', () => {
    const y = Float64Array.from([1, 3, 2, 4, 3, 5]);
    poolAdjacentViolators(y, new Float64Array(6).fill(1));
    expect(Array.from(y)).toEqual([1, 2.5, 2.5, 3.5, 3.5, 5]);
  });

  it('pools with weights and across several blocks', () => {
    const y = Float64Array.from([4, 1, 3, 0]);
    poolAdjacentViolators(y, Float64Array.from([1, 3, 1, 1]));
    // (4·1 + 1·3 + 3·1 + 0·1) / 6 = 10/6 for everything.
    for (const v of y) expect(v).toBeCloseTo(10 / 6, 12);
  });

  it('averages duplicate x before pooling and keeps only the knots where y changes', () => {
    const fit = fitIsotonic([0, 0, 1, 2, 3], [0, 1, 0, 1, 1]);
    // x=0 → mean 0.5 (weight 2), x=1 → 0: pooled to 1/3; x=2, x=3 → 1 (the last knot is always kept).
    expect(Array.from(fit.x)).toEqual([0, 1, 2, 3]);
    expect(Array.from(fit.y).map((v) => +v.toFixed(12))).toEqual([0.333333333333, 0.333333333333, 1, 1]);
  });

  it('matches scikit-learn knots and predictions on a sample with ties', () => {
    // Expected values from scikit-learn 1.2.1 IsotonicRegression(out_of_bounds="clip").
    const x = [0.5, -1.0, 2.0, 0.5, 3.0, -2.0, 1.0, 1.0, 1.0, 2.5, -0.5, 0.0];
    const y = [1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 1, 0];
    const fit = fitIsotonic(x, y);
    expect(Array.from(fit.x)).toEqual([-2.0, -1.0, -0.5, 0.5, 1.0, 2.5, 3.0]);
    expect(Array.from(fit.y).map((v) => +v.toFixed(12))).toEqual([0, 0, 0.5, 0.5, 0.6, 0.6, 1]);
    expect([-3, -1.5, 0.25, 0.75, 2.2, 9].map((v) => +predictIsotonic(fit, v).toFixed(12))).toEqual([0, 0, 0.5, 0.55, 0.6, 1]);
  });

  it('clips predictions outside the fitted range and handles a single knot', () => {
    const fit = fitIsotonic([1, 2], [0, 1]);
    expect(predictIsotonic(fit, -100)).toBe(0);
    expect(predictIsotonic(fit, 100)).toBe(1);
    expect(predictIsotonic(fit, 1.25)).toBe(0.25);
    expect(predictIsotonic(fitIsotonic([5, 5], [0, 1]), 0)).toBe(0.5);
  });
});
