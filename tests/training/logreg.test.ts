// The L2 logistic-regression solver against problems whose optimum is known independently.
import { describe, expect, it } from 'vitest';
import type { Csr } from '../../models/training/csr.js';
import { fitLogReg, objective, sigmoid } from '../../models/training/logreg.js';

function csr(rows: [number, number][][], nCols: number): Csr {
  const indptr = [0];
  const indices: number[] = [];
  const data: number[] = [];
  for (const r of rows) {
    for (const [j, v] of r) {
      indices.push(j);
      data.push(v);
    }
    indptr.push(indices.length);
  }
  return { nRows: rows.length, nCols, indptr: Int32Array.from(indptr), indices: Int32Array.from(indices), data: Float64Array.from(data) };
}

/** Root of a monotone function on [lo, hi] by bisection (to machine precision). */
function bisect(fn: (x: number) => number, lo: number, hi: number): number {
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (fn(lo) * fn(mid) <= 0) hi = mid;
    else lo = mid;
  }
  return (lo + hi) / 2;
}

describe('logistic regression (L-BFGS)', () => {
  it('fits the unpenalised intercept to the log-odds when there are no features', () => {
    const X = csr([[], [], [], []], 1);
    const fit = fitLogReg(X, Uint8Array.from([1, 1, 1, 0]), { C: 5 });
    expect(fit.converged).toBe(true);
    expect(fit.intercept).toBeCloseTo(Math.log(3), 9);
    expect(fit.coef[0]).toBe(0);
  });

  it('finds the optimum of a symmetric one-feature problem', () => {
    // a rows (x=+1, y=1), b rows (x=+1, y=0), a rows (x=−1, y=0), b rows (x=−1, y=1): by symmetry b* = 0 and
    // w* solves w/C = 2a·σ(−w) − 2b·σ(w).
    const a = 3;
    const b = 1;
    const C = 0.7;
    const rows: [number, number][][] = [];
    const y: number[] = [];
    const add = (x: number, label: number, n: number) => {
      for (let i = 0; i < n; i++) {
        rows.push([[0, x]]);
        y.push(label);
      }
    };
    add(1, 1, a);
    add(1, 0, b);
    add(-1, 0, a);
    add(-1, 1, b);
    const wStar = bisect((w) => w / C - 2 * a * sigmoid(-w) + 2 * b * sigmoid(w), -10, 10);
    const fit = fitLogReg(csr(rows, 1), Uint8Array.from(y), { C });
    expect(fit.coef[0]).toBeCloseTo(wStar, 8);
    expect(fit.intercept).toBeCloseTo(0, 8);
  });

  it('reaches a zero gradient on a sparse problem with many features', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const rows: [number, number][][] = [];
    const y: number[] = [];
    for (let i = 0; i < 300; i++) {
      const r: [number, number][] = [];
      for (let j = 0; j < 40; j++) if (rand() < 0.1) r.push([j, rand() * 2 - 0.5]);
      rows.push(r);
      y.push(rand() < 0.3 + (r.length > 4 ? 0.4 : 0) ? 1 : 0);
    }
    const X = csr(rows, 40);
    const labels = Uint8Array.from(y);
    const fit = fitLogReg(X, labels, { C: 5, gtol: 1e-12 });
    expect(fit.converged).toBe(true);
    const theta = Float64Array.from([...fit.coef, fit.intercept]);
    const grad = new Float64Array(41);
    objective(X, labels, new Float64Array(300).fill(1), 5, theta, grad, new Float64Array(300), new Float64Array(300));
    // The gradient at 0 is O(100); at the optimum it is zero up to rounding.
    expect(Math.max(...grad.map(Math.abs))).toBeLessThan(1e-6);
  });

  it('treats a sample weight of 2 like a duplicated row', () => {
    const rows: [number, number][][] = [[[0, 1]], [[0, 0.5], [1, 1]], [[1, 1]], [[0, -1]]];
    const y = [1, 1, 0, 0];
    const weighted = fitLogReg(csr(rows, 2), Uint8Array.from(y), { C: 2, sampleWeight: Float64Array.from([2, 1, 1, 1]) });
    const duplicated = fitLogReg(csr([rows[0]!, ...rows], 2), Uint8Array.from([1, ...y]), { C: 2 });
    expect(weighted.coef[0]).toBeCloseTo(duplicated.coef[0]!, 9);
    expect(weighted.coef[1]).toBeCloseTo(duplicated.coef[1]!, 9);
    expect(weighted.intercept).toBeCloseTo(duplicated.intercept, 9);
  });
});
