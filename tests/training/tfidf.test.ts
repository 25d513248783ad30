// TF-IDF blocks against values computed by hand with scikit-learn's formulas: smooth idf ln((1+n)/(1+df)) + 1,
// sublinear tf 1 + ln(tf), L2 norm per block, min_df/max_df pruning, stop words removed before n-gramming.
import { describe, expect, it } from 'vitest';
import { compareCodePoints, fitBlock, fitFeatureSpace, ngrams, transform, type BlockSpec } from '../../models/training/tfidf.js';

const docs = [['a', 'b', 'a'], ['b', 'c'], ['a', 'c', 'c', 'd']];
const unigrams: BlockSpec = { ngramRange: [1, 1], minDf: 1, maxDf: 1.0, sublinearTf: true, stopWords: [] };

/** Row i of a CSR matrix as {column: value}. */
function row(m: ReturnType<typeof transform>, i: number): Record<number, number> {
  const out: Record<number, number> = {};
  for (let p = m.indptr[i]!; p < m.indptr[i + 1]!; p++) out[m.indices[p]!] = m.data[p]!;
  return out;
}

describe('tf-idf', () => {
  it('computes smooth idf ln((1+n)/(1+df)) + 1', () => {
    const block = fitBlock(docs, unigrams);
    expect(block.terms).toEqual(['a', 'b', 'c', 'd']);
    // n = 3; df(a) = df(b) = df(c) = 2 → 1 + ln(4/3); df(d) = 1 → 1 + ln 2.
    expect(Array.from(block.idf)).toEqual([1.2876820724517808, 1.2876820724517808, 1.2876820724517808, 1.6931471805599454]);
  });

  it('weights sublinear tf by idf and L2-normalises the row', () => {
    const X = transform(fitFeatureSpace(docs, [unigrams]), docs);
    // Row 0: a twice → (1 + ln 2)·1.2876821 = 2.1802353; b once → 1.2876821; norm √(2.1802353² + 1.2876821²) = 2.5321041.
    const r0 = row(X, 0);
    expect(r0[0]).toBeCloseTo(2.1802353 / 2.5321041, 7);
    expect(r0[1]).toBeCloseTo(1.2876821 / 2.5321041, 7);
    // Row 2: a once, c twice, d once → 1.2876821, 2.1802353, 1.6931472; norm 3.0460299.
    const r2 = row(X, 2);
    expect(r2[0]).toBeCloseTo(1.2876821 / 3.0460299, 7);
    expect(r2[2]).toBeCloseTo(2.1802353 / 3.0460299, 7);
    expect(r2[3]).toBeCloseTo(1.6931472 / 3.0460299, 7);
  });

  it('normalises each block separately and places blocks side by side', () => {
    const bigrams: BlockSpec = { ngramRange: [2, 2], minDf: 1, maxDf: 1.0, sublinearTf: true, stopWords: [] };
    const space = fitFeatureSpace(docs, [unigrams, bigrams]);
    expect(space.offsets).toEqual([0, 4]);
    expect(space.blocks[1]!.terms).toEqual(['a b', 'a c', 'b a', 'b c', 'c c', 'c d']);
    const r1 = row(transform(space, docs), 1);
    // Unigram block of row 1: b and c, equal idf → 1/√2 each; bigram block: only "b c" → 1.
    expect(r1[1]).toBeCloseTo(Math.SQRT1_2, 12);
    expect(r1[2]).toBeCloseTo(Math.SQRT1_2, 12);
    expect(r1[4 + 3]).toBe(1);
  });

  it('leaves a row without any vocabulary term all zero', () => {
    const X = transform(fitFeatureSpace(docs, [unigrams]), [['zzz'], []]);
    expect(X.indptr[2]).toBe(0);
  });

  it('prunes by min_df as a count and max_df as a proportion', () => {
    const block = fitBlock(docs, { ...unigrams, minDf: 2, maxDf: 0.9 });
    // d has df 1 < 2; a, b, c have df 2 ≤ 0.9·3.
    expect(block.terms).toEqual(['a', 'b', 'c']);
    expect(fitBlock([['a', 'b'], ['a'], ['a', 'c']], { ...unigrams, maxDf: 0.5 }).terms).toEqual(['b', 'c']);
  });

  it('drops stop words before forming n-grams, as scikit-learn does', () => {
    expect(ngrams(['muy', 'de', 'bien'], { ngramRange: [1, 2] }, new Set(['de']))).toEqual(['muy', 'bien', 'muy bien']);
    expect(ngrams(['muy', 'de', 'bien'], { ngramRange: [2, 3] })).toEqual(['muy de', 'de bien', 'muy de bien']);
  });

  it('sorts the vocabulary by code point like Python', () => {
    const terms = ['zeta', 'árbol', 'abc', '𝒜x', 'ﬀ', 'Zeta'];
    expect([...terms].sort(compareCodePoints)).toEqual(['Zeta', 'abc', 'zeta', 'árbol', 'ﬀ', '𝒜x']);
  });
});
