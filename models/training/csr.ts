// Compressed sparse row matrices in typed arrays: the feature matrix the training maths runs on.

export interface Csr {
  nRows: number;
  nCols: number;
  /** Row i spans indices/data [indptr[i], indptr[i+1]). */
  indptr: Int32Array;
  indices: Int32Array;
  data: Float64Array;
}

/** The rows `rows` (in that order) of `m`. */
export function selectRows(m: Csr, rows: ArrayLike<number>): Csr {
  let nnz = 0;
  for (let r = 0; r < rows.length; r++) nnz += m.indptr[rows[r] + 1] - m.indptr[rows[r]];
  const indptr = new Int32Array(rows.length + 1);
  const indices = new Int32Array(nnz);
  const data = new Float64Array(nnz);
  let p = 0;
  for (let r = 0; r < rows.length; r++) {
    const i = rows[r];
    const a = m.indptr[i];
    const b = m.indptr[i + 1];
    indices.set(m.indices.subarray(a, b), p);
    data.set(m.data.subarray(a, b), p);
    p += b - a;
    indptr[r + 1] = p;
  }
  return { nRows: rows.length, nCols: m.nCols, indptr, indices, data };
}

/** out[i] = row_i · w + b. */
export function matVec(m: Csr, w: Float64Array<ArrayBufferLike>, b: number, out: Float64Array = new Float64Array(m.nRows)): Float64Array {
  const { indptr, indices, data } = m;
  for (let i = 0; i < m.nRows; i++) {
    let s = b;
    for (let p = indptr[i], e = indptr[i + 1]; p < e; p++) s += data[p] * w[indices[p]];
    out[i] = s;
  }
  return out;
}

/** out += mᵀ r (out has nCols entries). */
export function addTransposeVec(m: Csr, r: Float64Array, out: Float64Array): Float64Array {
  const { indptr, indices, data } = m;
  for (let i = 0; i < m.nRows; i++) {
    const ri = r[i];
    if (ri === 0) continue;
    for (let p = indptr[i], e = indptr[i + 1]; p < e; p++) out[indices[p]] += data[p] * ri;
  }
  return out;
}
