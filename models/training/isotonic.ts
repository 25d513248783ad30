// Increasing isotonic regression with scikit-learn's IsotonicRegression(out_of_bounds="clip") semantics: sort by
// (x, y), average y over duplicate x (weighted), pool adjacent violators, keep only the knots where y changes,
// then predict by linear interpolation between knots, clipped to the fitted range.
import { interpolate } from '../scorer.js';

export interface IsotonicFit {
  /** Knot abscissae, strictly increasing. */
  x: Float64Array;
  /** Knot values, non-decreasing. */
  y: Float64Array;
}

/** Pool adjacent violators in place (scikit-learn `_inplace_contiguous_isotonic_regression`, equal values pooled). */
export function poolAdjacentViolators(y: Float64Array, w: Float64Array): void {
  const n = y.length;
  const target = new Int32Array(n);
  for (let i = 0; i < n; i++) target[i] = i;
  let i = 0;
  while (i < n) {
    let k = target[i] + 1;
    if (k === n) break;
    if (y[i] < y[k]) {
      i = k;
      continue;
    }
    let sumWy = w[i] * y[i];
    let sumW = w[i];
    for (;;) {
      const prevY = y[k];
      sumWy += w[k] * y[k];
      sumW += w[k];
      k = target[k] + 1;
      if (k === n || prevY < y[k]) {
        y[i] = sumWy / sumW;
        w[i] = sumW;
        target[i] = k - 1;
        target[k - 1] = i;
        if (i > 0) i = target[i - 1];
        break;
      }
    }
  }
  i = 0;
  while (i < n) {
    const k = target[i] + 1;
    y.fill(y[i], i + 1, k);
    i = k;
  }
}

export function fitIsotonic(xs: ArrayLike<number>, ys: ArrayLike<number>, weights?: ArrayLike<number>): IsotonicFit {
  const order: number[] = [];
  for (let i = 0; i < xs.length; i++) if (!weights || weights[i] > 0) order.push(i);
  if (order.length === 0) throw new Error('isotonic regression needs at least one sample');
  order.sort((a, b) => xs[a] - xs[b] || ys[a] - ys[b]);
  // Average y over duplicate x (numpy's float64 resolution decides what is a duplicate, as in `_make_unique`).
  const eps = 1e-15;
  const ux: number[] = [];
  const uy: number[] = [];
  const uw: number[] = [];
  let cx = xs[order[0]!];
  let cy = 0;
  let cw = 0;
  for (const i of order) {
    const x = xs[i];
    const wi = weights ? weights[i] : 1;
    if (x - cx >= eps) {
      ux.push(cx);
      uw.push(cw);
      uy.push(cy / cw);
      cx = x;
      cw = wi;
      cy = ys[i] * wi;
    } else {
      cw += wi;
      cy += ys[i] * wi;
    }
  }
  ux.push(cx);
  uw.push(cw);
  uy.push(cy / cw);
  const y = Float64Array.from(uy);
  poolAdjacentViolators(y, Float64Array.from(uw));
  // Drop interior points whose value equals both neighbours (they do not change the interpolation).
  const keepX: number[] = [];
  const keepY: number[] = [];
  for (let i = 0; i < y.length; i++) {
    if (i === 0 || i === y.length - 1 || y[i] !== y[i - 1] || y[i] !== y[i + 1]) {
      keepX.push(ux[i]!);
      keepY.push(y[i]);
    }
  }
  return { x: Float64Array.from(keepX), y: Float64Array.from(keepY) };
}

/** Linear interpolation between knots (numpy.interp), inputs clipped to [x₀, x_last]. */
export function predictIsotonic(fit: IsotonicFit, value: number): number {
  return interpolate(fit.x, fit.y, value);
}
