// TF-IDF feature blocks with scikit-learn's TfidfVectorizer semantics: word n-grams joined by a space, stop words
// removed before n-gramming, min_df/max_df pruning, vocabulary sorted, smooth idf ln((1+n)/(1+df))+1, sublinear tf
// 1+ln(tf), L2 normalisation per block. Blocks are concatenated (FeatureUnion) into one sparse matrix.
// Internally tokens are interned and an n-gram is the integer id₁·B^(n−1) + … + idₙ (B = tokens + 1, id 0 =
// unseen token), so fitting and transforming never build n-gram strings; only the kept terms are spelled out.
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
  /** Token ids (1..M) of the fitted corpus, and per block the integer n-gram key → global column. */
  index: { tokenId: Map<string, number>; base: number; columns: Map<number, number>[] };
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

/** Interned documents: token ids per document (0 for a token outside `tokenId`). */
function intern(docs: readonly (readonly string[])[], tokenId: Map<string, number>, grow: boolean): Int32Array[] {
  return docs.map((doc) => {
    const ids = new Int32Array(doc.length);
    for (let i = 0; i < doc.length; i++) {
      let id = tokenId.get(doc[i]!);
      if (id === undefined && grow) tokenId.set(doc[i]!, (id = tokenId.size + 1));
      ids[i] = id ?? 0;
    }
    return ids;
  });
}

/**
 * Calls `emit(key)` for every n-gram of a block in an interned document. Stop words are dropped first; a key with
 * an unseen token (id 0) never equals a key of a fitted term of the same n.
 */
function forEachNgram(ids: Int32Array, spec: BlockSpec, stop: Set<number>, base: number, emit: (key: number) => void): void {
  let toks = ids;
  if (stop.size) toks = ids.filter((id) => !stop.has(id));
  const [minN, maxN] = spec.ngramRange;
  for (let n = minN; n <= maxN; n++) {
    // Keys of different n live in disjoint ranges [n·base^n, (n+1)·base^n).
    const lead = n * base ** n;
    for (let i = 0; i + n <= toks.length; i++) {
      let key = 0;
      for (let k = 0; k < n; k++) key = key * base + toks[i + k]!;
      emit(lead + key);
    }
  }
}

function grow<T extends Float64Array | Int32Array>(a: T): T {
  const b = new (a.constructor as new (n: number) => T)(a.length * 2);
  b.set(a);
  return b;
}

function spell(key: number, base: number, tokens: string[]): string {
  let n = 0;
  while (base ** (n + 1) * (n + 1) <= key) n++;
  let rest = key - n * base ** n;
  const parts: string[] = new Array(n);
  for (let k = n - 1; k >= 0; k--) {
    parts[k] = tokens[rest % base]!;
    rest = Math.floor(rest / base);
  }
  return parts.join(' ');
}

function fitInterned(docs: Int32Array[], spec: BlockSpec, tokenId: Map<string, number>, tokens: string[]): { block: FittedBlock; keys: number[] } {
  const base = tokenId.size + 1;
  if ((spec.ngramRange[1] + 1) * base ** spec.ngramRange[1] > Number.MAX_SAFE_INTEGER) throw new Error(`too many distinct tokens (${tokenId.size}) for ${spec.ngramRange[1]}-gram keys`);
  const stop = new Set<number>();
  for (const w of spec.stopWords) {
    const id = tokenId.get(w);
    if (id !== undefined) stop.add(id);
  }
  // One map lookup per occurrence: key → entry; document frequency and last document seen in typed arrays.
  const entry = new Map<number, number>();
  let keys = new Float64Array(1 << 16);
  let df = new Int32Array(1 << 16);
  let lastDoc = new Int32Array(1 << 16);
  docs.forEach((ids, d) => {
    forEachNgram(ids, spec, stop, base, (key) => {
      let e = entry.get(key);
      if (e === undefined) {
        e = entry.size;
        entry.set(key, e);
        if (e === keys.length) {
          keys = grow(keys);
          df = grow(df);
          lastDoc = grow(lastDoc);
        }
        keys[e] = key;
        lastDoc[e] = -1;
      }
      if (lastDoc[e] !== d) {
        lastDoc[e] = d;
        df[e]!++;
      }
    });
  });
  const n = docs.length;
  const low = docCountLimit(spec.minDf, n, 'min');
  const high = docCountLimit(spec.maxDf, n, 'max');
  if (high < low) throw new Error(`max_df corresponds to < documents than min_df (${high} < ${low})`);
  const kept: { key: number; term: string; df: number }[] = [];
  for (let e = 0; e < entry.size; e++) if (df[e]! >= low && df[e]! <= high) kept.push({ key: keys[e]!, term: spell(keys[e]!, base, tokens), df: df[e]! });
  kept.sort((a, b) => compareCodePoints(a.term, b.term));
  const idf = new Float64Array(kept.length);
  kept.forEach((k, j) => {
    idf[j] = Math.log((n + 1) / (k.df + 1)) + 1;
  });
  return { block: { spec, terms: kept.map((k) => k.term), idf }, keys: kept.map((k) => k.key) };
}

function vocabularyOf(docs: readonly (readonly string[])[]): { tokenId: Map<string, number>; tokens: string[]; interned: Int32Array[] } {
  const tokenId = new Map<string, number>();
  const interned = intern(docs, tokenId, true);
  const tokens = [''];
  for (const [t] of tokenId) tokens.push(t);
  return { tokenId, tokens, interned };
}

export function fitBlock(docs: readonly (readonly string[])[], spec: BlockSpec): FittedBlock {
  const { tokenId, tokens, interned } = vocabularyOf(docs);
  return fitInterned(interned, spec, tokenId, tokens).block;
}

export function fitFeatureSpace(docs: readonly (readonly string[])[], specs: readonly BlockSpec[]): FeatureSpace {
  const { tokenId, tokens, interned } = vocabularyOf(docs);
  const blocks: FittedBlock[] = [];
  const columns: Map<number, number>[] = [];
  const offsets: number[] = [];
  let size = 0;
  for (const spec of specs) {
    const { block, keys } = fitInterned(interned, spec, tokenId, tokens);
    offsets.push(size);
    columns.push(new Map(keys.map((k, j) => [k, size + j])));
    blocks.push(block);
    size += block.terms.length;
  }
  return { blocks, offsets, size, index: { tokenId, base: tokenId.size + 1, columns } };
}

/** Sublinear tf (scikit-learn: ln(tf) + 1) or the raw count. */
export function tfWeight(count: number, sublinear: boolean): number {
  return sublinear ? Math.log(count) + 1 : count;
}

/** The L2-normalised TF-IDF rows of `docs` (one CSR matrix, blocks side by side, columns sorted within a row). */
export function transform(space: FeatureSpace, docs: readonly (readonly string[])[]): Csr {
  const { tokenId, base, columns } = space.index;
  const interned = intern(docs, tokenId, false);
  const stops = space.blocks.map((b) => {
    const s = new Set<number>();
    for (const w of b.spec.stopWords) {
      const id = tokenId.get(w);
      if (id !== undefined) s.add(id);
    }
    return s;
  });
  const indptr = new Int32Array(docs.length + 1);
  let indices = new Int32Array(1 << 16);
  let data = new Float64Array(1 << 16);
  let nnz = 0;
  const counts = new Map<number, number>();
  for (let i = 0; i < docs.length; i++) {
    for (let k = 0; k < space.blocks.length; k++) {
      const block = space.blocks[k]!;
      const cols = columns[k]!;
      counts.clear();
      forEachNgram(interned[i]!, block.spec, stops[k]!, base, (key) => {
        const col = cols.get(key);
        if (col !== undefined) counts.set(col, (counts.get(col) ?? 0) + 1);
      });
      const present = Int32Array.from(counts.keys()).sort();
      if (nnz + present.length > indices.length) {
        const grow = Math.max(indices.length * 2, nnz + present.length);
        const ni = new Int32Array(grow);
        ni.set(indices);
        indices = ni;
        const nd = new Float64Array(grow);
        nd.set(data);
        data = nd;
      }
      const start = nnz;
      let sq = 0;
      for (const col of present) {
        const v = tfWeight(counts.get(col)!, block.spec.sublinearTf) * block.idf[col - space.offsets[k]!]!;
        indices[nnz] = col;
        data[nnz++] = v;
        sq += v * v;
      }
      if (sq > 0) {
        const norm = Math.sqrt(sq);
        for (let p = start; p < nnz; p++) data[p] = data[p]! / norm;
      }
    }
    indptr[i + 1] = nnz;
  }
  return { nRows: docs.length, nCols: space.size, indptr, indices: indices.slice(0, nnz), data: data.slice(0, nnz) };
}
