// Naive-Bayes log-count-ratio scaling: ratios from per-class feature sums, and the fitted fold equals the linear model
// r ⊙ w on unscaled features (so the ONNX graph needs no change).
import { describe, expect, it } from 'vitest';
import type { Csr } from '../../models/training/csr.js';
import { matVec } from '../../models/training/csr.js';
import { fitLogReg } from '../../models/training/logreg.js';
import { logCountRatio, scaleColumns } from '../../models/training/nb-scaling.js';

// 4 rows x 3 features; rows 0,1 positive (y=1), rows 2,3 negative.
const X: Csr = {
  nRows: 4,
  nCols: 3,
  indptr: Int32Array.from([0, 2, 3, 5, 6]),
  indices: Int32Array.from([0, 2, 0, 1, 2, 1]),
  data: Float64Array.from([0.6, 0.8, 1, 0.6, 0.8, 1]),
};
const y = Uint8Array.from([1, 1, 0, 0]);

describe('Naive-Bayes feature scaling', () => {
  it('computes r_j = ln((p_j/|p|) / (q_j/|q|)) with α smoothing, as hand-computed', () => {
    // p = α + positive sums = 1 + [1.6, 0, 0.8] ; q = 1 + [0, 1.6, 0.8]
    const p = [2.6, 1, 1.8];
    const q = [1, 2.6, 1.8];
    const ps = p.reduce((a, b) => a + b);
    const qs = q.reduce((a, b) => a + b);
    const r = logCountRatio(X, y, 1);
    p.forEach((pj, j) => expect(r[j]).toBeCloseTo(Math.log(pj / ps / (q[j]! / qs)), 12));
    expect(r[0]).toBeGreaterThan(0); // a positive-only feature
    expect(r[1]).toBeLessThan(0); // a negative-only feature
    expect(r[2]).toBeCloseTo(0, 12); // equally common
  });

  it('a model fitted on scaled features scores unscaled rows exactly with coefficients r ⊙ w', () => {
    const r = logCountRatio(X, y, 1);
    const fit = fitLogReg(scaleColumns(X, r), y, { C: 5 });
    const effective = fit.coef.map((w, j) => w * r[j]!);
    const onScaled = matVec(scaleColumns(X, r), fit.coef, fit.intercept);
    const onRaw = matVec(X, Float64Array.from(effective), fit.intercept);
    onScaled.forEach((v, i) => expect(onRaw[i]).toBeCloseTo(v, 12));
  });
});
