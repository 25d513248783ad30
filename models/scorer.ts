// The model's maths in plain TypeScript (double precision), from the same parameters the ONNX graph holds: n-gram
// counts, sublinear tf × idf, L2 norm per block, per-fold decision function, per-fold isotonic calibration, mean over
// folds. Used to check the ONNX graph (parity tests) and to score inside training without ONNX Runtime.

/** Everything that defines a trained model (what `model.onnx` encodes). */
export interface ModelParams {
  /** Feature blocks in column order; a term is n tokens joined by single spaces; an n belongs to one block only. */
  blocks: { terms: string[] }[];
  /** Smooth idf per column (V). */
  idf: Float64Array;
  /** Logistic-regression coefficients of every calibration fold, row-major [V, F]: coef[j·F + f]. */
  coef: Float64Array;
  /** Intercept per fold (F). */
  intercept: Float64Array;
  /** Isotonic calibration per fold: knots x (strictly increasing) and y, interpolated linearly and clipped. */
  isotonic: { x: Float64Array; y: Float64Array }[];
}

export interface Explanation {
  feature: string;
  importance: number;
}

export interface Scorer {
  /** Column names, index-aligned with the contributions. */
  readonly features: string[];
  /** P(negative) of one tokenised text. */
  pNegative(tokens: readonly string[]): number;
  /** Per fold decision values (before calibration). */
  decisions(tokens: readonly string[]): Float64Array;
  /** Present features: tf-idf value (L2-normalised in its block) × fold-averaged coefficient, by |importance|. */
  explain(tokens: readonly string[], topK: number): Explanation[];
}

export function interpolate(x: Float64Array, y: Float64Array, value: number): number {
  const last = x.length - 1;
  if (last === 0 || value <= x[0]) return y[0];
  if (value >= x[last]) return y[last];
  let lo = 0;
  let hi = last;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (x[mid] <= value) lo = mid;
    else hi = mid;
  }
  return ((y[hi] - y[lo]) / (x[hi] - x[lo])) * (value - x[lo]) + y[lo];
}

/** The fold-averaged coefficient of every column (V): what explanations multiply the tf-idf values by. */
export function meanCoefficients(params: ModelParams): Float64Array {
  const F = params.intercept.length;
  const V = params.coef.length / F;
  const mean = new Float64Array(V);
  for (let j = 0; j < V; j++) {
    let s = 0;
    for (let f = 0; f < F; f++) s += params.coef[j * F + f]!;
    mean[j] = s / F;
  }
  return mean;
}

export function createScorer(params: ModelParams): Scorer {
  const F = params.intercept.length;
  const columns = new Map<string, number>();
  const blockOf: number[] = [];
  const features: string[] = [];
  const nBlock = new Map<number, number>();
  let maxN = 1;
  params.blocks.forEach((block, b) => {
    for (const term of block.terms) {
      const n = term.split(' ').length;
      nBlock.set(n, b);
      maxN = Math.max(maxN, n);
      columns.set(term, features.length);
      blockOf.push(b);
      features.push(term);
    }
  });
  const meanCoef = meanCoefficients(params);

  /** Column -> tf-idf value normalised per block. */
  const vectorise = (tokens: readonly string[]): Map<number, number> => {
    const counts = new Map<number, number>();
    for (let n = 1; n <= maxN; n++) {
      if (!nBlock.has(n)) continue;
      for (let i = 0; i + n <= tokens.length; i++) {
        const col = columns.get(n === 1 ? tokens[i]! : tokens.slice(i, i + n).join(' '));
        if (col !== undefined) counts.set(col, (counts.get(col) ?? 0) + 1);
      }
    }
    const values = new Map<number, number>();
    const sq = new Float64Array(params.blocks.length);
    for (const [col, c] of counts) {
      const v = (Math.log(c) + 1) * params.idf[col];
      values.set(col, v);
      sq[blockOf[col]!] += v * v;
    }
    for (const [col, v] of values) values.set(col, v / Math.max(Math.sqrt(sq[blockOf[col]!]), 1));
    return values;
  };

  const decisions = (tokens: readonly string[]): Float64Array => {
    const d = Float64Array.from(params.intercept);
    for (const [col, v] of vectorise(tokens)) for (let f = 0; f < F; f++) d[f] += v * params.coef[col * F + f];
    return d;
  };

  return {
    features,
    decisions,
    pNegative(tokens) {
      const d = decisions(tokens);
      let p = 0;
      for (let f = 0; f < F; f++) p += interpolate(params.isotonic[f]!.x, params.isotonic[f]!.y, d[f]);
      return 1 - p / F;
    },
    explain(tokens, topK) {
      const out: Explanation[] = [];
      for (const [col, v] of vectorise(tokens)) out.push({ feature: features[col]!, importance: v * meanCoef[col] });
      out.sort((a, b) => Math.abs(b.importance) - Math.abs(a.importance) || (a.feature < b.feature ? -1 : 1));
      return out.slice(0, topK);
    },
  };
}
