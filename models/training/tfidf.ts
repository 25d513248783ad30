// TF-IDF feature blocks with scikit-learn's TfidfVectorizer semantics: word n-grams joined by a space, stop words
// removed before n-gramming, min_df/max_df pruning, vocabulary sorted, smooth idf ln((1+n)/(1+df))+1, sublinear tf
// 1+ln(tf), L2 normalisation per block. Blocks are concatenated (FeatureUnion) into one sparse matrix.
import type { Csr } from './csr.js';

export interface BlockSpec {
  ngramRange: [number, number];
  /** An integer >= 1 is a document count, a value in (0, 1) a proportion of documents. */
  minDf: number;
  /** A value <= 1 is a proportion of documents, an integer > 1 a document count. */
  maxDf: number;
  sublinearTf: boolean;
  stopWords: readonly string[];
}

export interface FittedBlock {
  spec: BlockSpec;
  /** Vocabulary in scikit-learn order (sorted by code point). */
  terms: string[];
  idf: Float64Array;
}

export interface FeatureSpace {
  blocks: FittedBlock[];
  /** Column offset of each block. */
  offsets: number[];
  size: number;
}

/** Python's string order: by code point (JavaScript's `<` compares UTF-16 units, which differs above U+FFFF). */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      const surrogate = (x >= 0xd800 && x <= 0xdfff) || (y >= 0xd800 && y <= 0xdfff);
      return surrogate ? a.codePointAt(i)! - b.codePointAt(i)! : x - y;
    }
  }
  return a.length - b.length;
}

/** The n-grams of one tokenised document (scikit-learn `_word_ngrams`): stop words dropped first. */
export function ngrams(tokens: readonly string[], spec: Pick<BlockSpec, 'ngramRange'>, stop?: ReadonlySet<string>): string[] {
  const toks = stop && stop.size ? tokens.filter((t) => !stop.has(t)) : tokens;
  const [minN, maxN] = spec.ngramRange;
  const out: string[] = [];
  for (let n = minN; n <= maxN; n++) {
    for (let i = 0; i + n <= toks.length; i++) out.push(n === 1 ? toks[i]! : toks.slice(i, i + n).join(' '));
  }
  return out;
}

function docCountLimit(value: number, nDocs: number, kind: 'min' | 'max'): number {
  if (kind === 'min') return Number.isInteger(value) && value >= 1 ? value : value * nDocs;
  return value <= 1 ? value * nDocs : value;
}

export function fitBlock(docs: readonly (readonly string[])[], spec: BlockSpec): FittedBlock {
  const stop = new Set(spec.stopWords);
  const df = new Map<string, number>();
  for (const doc of docs) {
    for (const g of new Set(ngrams(doc, spec, stop))) df.set(g, (df.get(g) ?? 0) + 1);
  }
  const n = docs.length;
  const low = docCountLimit(spec.minDf, n, 'min');
  const high = docCountLimit(spec.maxDf, n, 'max');
  if (high < low) throw new Error(`max_df corresponds to < documents than min_df (${high} < ${low})`);
  const terms = [...df.entries()].filter(([, d]) => d >= low && d <= high).map(([t]) => t).sort(compareCodePoints);
  const idf = new Float64Array(terms.length);
  terms.forEach((t, j) => {
    idf[j] = Math.log((n + 1) / (df.get(t)! + 1)) + 1;
  });
  return { spec, terms, idf };
}

export function fitFeatureSpace(docs: readonly (readonly string[])[], specs: readonly BlockSpec[]): FeatureSpace {
  const blocks = specs.map((s) => fitBlock(docs, s));
  const offsets: number[] = [];
  let size = 0;
  for (const b of blocks) {
    offsets.push(size);
    size += b.terms.length;
  }
  return { blocks, offsets, size };
}

/** Per block, a term -> column map (global column index). */
export function columnIndex(space: FeatureSpace): Map<string, number>[] {
  return space.blocks.map((b, k) => new Map(b.terms.map((t, j) => [t, space.offsets[k]! + j])));
}

/** Sublinear tf (scikit-learn: ln(tf) + 1) or the raw count. */
export function tfWeight(count: number, sublinear: boolean): number {
  return sublinear ? Math.log(count) + 1 : count;
}

/** The L2-normalised TF-IDF rows of `docs` (one CSR matrix, blocks side by side, columns sorted within a row). */
export function transform(space: FeatureSpace, docs: readonly (readonly string[])[]): Csr {
  const index = columnIndex(space);
  const stops = space.blocks.map((b) => new Set(b.spec.stopWords));
  const indptr = new Int32Array(docs.length + 1);
  const indices: number[] = [];
  const data: number[] = [];
  const counts = new Map<number, number>();
  for (let i = 0; i < docs.length; i++) {
    for (let k = 0; k < space.blocks.length; k++) {
      const block = space.blocks[k]!;
      counts.clear();
      for (const g of ngrams(docs[i]!, block.spec, stops[k])) {
        const col = index[k]!.get(g);
        if (col !== undefined) counts.set(col, (counts.get(col) ?? 0) + 1);
      }
      const cols = [...counts.keys()].sort((a, b) => a - b);
      const start = data.length;
      let sq = 0;
      for (const col of cols) {
        const v = tfWeight(counts.get(col)!, block.spec.sublinearTf) * block.idf[col - space.offsets[k]!]!;
        indices.push(col);
        data.push(v);
        sq += v * v;
      }
      if (sq > 0) {
        const norm = Math.sqrt(sq);
        for (let p = start; p < data.length; p++) data[p] = data[p]! / norm;
      }
    }
    indptr[i + 1] = data.length;
  }
  return { nRows: docs.length, nCols: space.size, indptr, indices: Int32Array.from(indices), data: Float64Array.from(data) };
}
