// Naive-Bayes feature scaling (NB-LR, Wang & Manning 2012): each feature is multiplied by its log-count ratio
// r_j = ln((p_j/‖p‖₁) / (q_j/‖q‖₁)), p = α + Σ positive rows, q = α + Σ negative rows, before the logistic regression.
// The model stays linear in the tf-idf features — the effective coefficients are r ⊙ w — so the ONNX graph and the
// scorer are unchanged; only the regularisation sees features weighted by how class-specific they are.
import type { Csr } from './csr.js';

export function logCountRatio(X: Csr, y: Uint8Array, alpha: number): Float64Array {
  const p = new Float64Array(X.nCols).fill(alpha);
  const q = new Float64Array(X.nCols).fill(alpha);
  for (let i = 0; i < X.nRows; i++) {
    const acc = y[i] ? p : q;
    for (let k = X.indptr[i]!; k < X.indptr[i + 1]!; k++) acc[X.indices[k]!]! += X.data[k]!;
  }
  let ps = 0;
  let qs = 0;
  for (let j = 0; j < X.nCols; j++) {
    ps += p[j]!;
    qs += q[j]!;
  }
  const r = new Float64Array(X.nCols);
  for (let j = 0; j < X.nCols; j++) r[j] = Math.log(p[j]! / ps / (q[j]! / qs));
  return r;
}

/** X with column j multiplied by r[j] (a new data array; structure shared). */
export function scaleColumns(X: Csr, r: Float64Array): Csr {
  const data = new Float64Array(X.data.length);
  for (let k = 0; k < data.length; k++) data[k] = X.data[k]! * r[X.indices[k]!]!;
  return { ...X, indptr: X.indptr.slice(), indices: X.indices.slice(), data };
}
