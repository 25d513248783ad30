// L2-regularised binary logistic regression on sparse rows, solved with L-BFGS in Float64Arrays.
// Minimises ½‖w‖² + C·Σ sᵢ·log(1 + exp(−tᵢ(xᵢ·w + b))) with tᵢ = ±1 and an unpenalised intercept b — the problem
// scikit-learn's LogisticRegression(penalty="l2", C) solves — to a tight gradient tolerance, so the result is the
// optimum itself rather than wherever an iteration cap stopped.
import { addTransposeVec, matVec, type Csr } from './csr.js';

export interface LogRegModel {
  coef: Float64Array;
  intercept: number;
}

export interface LogRegOptions {
  C: number;
  /** Per-row weights (class weights folded in); default 1. */
  sampleWeight?: Float64Array;
  /** Stop when max |∂F/∂θ| ≤ gtol · Σ sᵢ (the mean-loss gradient is below gtol). */
  gtol?: number;
  maxIter?: number;
}

/** L-BFGS memory: the number of correction pairs kept. */
const MEMORY = 20;

export interface LogRegFit extends LogRegModel {
  iterations: number;
  evaluations: number;
  converged: boolean;
  /** max |gradient| / Σ sᵢ at the end. */
  gradNorm: number;
  objective: number;
}

/** log(1 + e^u) without overflow. */
export function log1pExp(u: number): number {
  return u > 0 ? u + Math.log1p(Math.exp(-u)) : Math.log1p(Math.exp(u));
}

/** 1 / (1 + e^−z) without overflow. */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** The objective and its gradient at θ = [w, b]; `grad` is overwritten. */
export function objective(X: Csr, y: Uint8Array, s: Float64Array, C: number, theta: Float64Array, grad: Float64Array, z: Float64Array, r: Float64Array): number {
  const d = X.nCols;
  const w = theta.subarray(0, d);
  matVec(X, w, theta[d], z);
  let loss = 0;
  let gb = 0;
  for (let i = 0; i < X.nRows; i++) {
    const zi = z[i];
    const si = s[i];
    loss += si * log1pExp(y[i] ? -zi : zi);
    const ri = si * (sigmoid(zi) - y[i]);
    r[i] = ri;
    gb += ri;
  }
  let reg = 0;
  for (let j = 0; j < d; j++) {
    reg += w[j] * w[j];
    grad[j] = w[j] / C;
  }
  addTransposeVec(X, r, grad);
  grad[d] = gb;
  return loss + (0.5 * reg) / C;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const v = Math.abs(a[i]);
    if (v > m) m = v;
  }
  return m;
}

/** Fits the model (the objective is scaled by 1/C, which has the same minimiser and better-sized numbers). */
export function fitLogReg(X: Csr, y: Uint8Array, opts: LogRegOptions): LogRegFit {
  const d = X.nCols;
  const n = X.nRows;
  const dim = d + 1;
  const C = opts.C;
  const s = opts.sampleWeight ?? new Float64Array(n).fill(1);
  let sw = 0;
  for (let i = 0; i < n; i++) sw += s[i];
  const gtol = (opts.gtol ?? 1e-9) * sw;
  const maxIter = opts.maxIter ?? 5000;
  const m = MEMORY;

  const theta = new Float64Array(dim);
  const z = new Float64Array(n);
  const r = new Float64Array(n);
  let g = new Float64Array(dim);
  let gNew = new Float64Array(dim);
  const trial = new Float64Array(dim);
  const dir = new Float64Array(dim);
  const S = Array.from({ length: m }, () => new Float64Array(dim));
  const Y = Array.from({ length: m }, () => new Float64Array(dim));
  const rho = new Float64Array(m);
  const alpha = new Float64Array(m);
  let stored = 0;
  let head = 0;

  let f = objective(X, y, s, C, theta, g, z, r);
  let evaluations = 1;
  let iterations = 0;
  let converged = maxAbs(g) <= gtol;
  while (!converged && iterations < maxIter) {
    // Two-loop recursion: dir = −H·g.
    dir.set(g);
    for (let k = 0; k < stored; k++) {
      const idx = (head - 1 - k + m) % m;
      alpha[idx] = rho[idx] * dot(S[idx]!, dir);
      const yk = Y[idx]!;
      const a = alpha[idx];
      for (let j = 0; j < dim; j++) dir[j] -= a * yk[j];
    }
    let gamma = 1 / Math.max(maxAbs(g), 1);
    if (stored > 0) {
      const last = (head - 1 + m) % m;
      gamma = dot(S[last]!, Y[last]!) / dot(Y[last]!, Y[last]!);
    }
    for (let j = 0; j < dim; j++) dir[j] *= gamma;
    for (let k = stored - 1; k >= 0; k--) {
      const idx = (head - 1 - k + m) % m;
      const sk = S[idx]!;
      const beta = rho[idx] * dot(Y[idx]!, dir);
      const c = alpha[idx] - beta;
      for (let j = 0; j < dim; j++) dir[j] += c * sk[j];
    }
    for (let j = 0; j < dim; j++) dir[j] = -dir[j];
    let slope = dot(g, dir);
    if (!(slope < 0)) {
      // Not a descent direction (numerical trouble): restart from steepest descent.
      stored = 0;
      for (let j = 0; j < dim; j++) dir[j] = -g[j] * gamma;
      slope = dot(g, dir);
    }
    // Backtracking line search with the Armijo condition (the objective is strictly convex, so s·y > 0 holds).
    let step = 1;
    let fNew = Infinity;
    for (let ls = 0; ls < 60; ls++) {
      for (let j = 0; j < dim; j++) trial[j] = theta[j] + step * dir[j];
      fNew = objective(X, y, s, C, trial, gNew, z, r);
      evaluations++;
      if (fNew <= f + 1e-4 * step * slope) break;
      step *= 0.5;
    }
    if (!(fNew <= f)) break; // no progress possible at machine precision
    const sk = S[head]!;
    const yk = Y[head]!;
    for (let j = 0; j < dim; j++) {
      sk[j] = trial[j] - theta[j];
      yk[j] = gNew[j] - g[j];
    }
    const sy = dot(sk, yk);
    if (sy > 1e-12 * dot(yk, yk)) {
      rho[head] = 1 / sy;
      head = (head + 1) % m;
      stored = Math.min(stored + 1, m);
    }
    theta.set(trial);
    [g, gNew] = [gNew, g];
    const fOld = f;
    f = fNew;
    iterations++;
    converged = maxAbs(g) <= gtol;
    if (!converged && fOld - f <= 1e-16 * Math.max(Math.abs(f), 1) && maxAbs(g) <= 1e3 * gtol) converged = true;
  }
  return { coef: theta.slice(0, d), intercept: theta[d], iterations, evaluations, converged, gradNorm: maxAbs(g) / sw, objective: f };
}

/** Decision function x·w + b for every row. */
export function decisionFunction(X: Csr, model: LogRegModel): Float64Array {
  return matVec(X, model.coef, model.intercept);
}
