// The training recipe: feature blocks, classifier and calibration settings `gsg train` uses. UPSTREAM_RECIPE is
// the upstream Python model as published; RECIPE is what the bundled model is trained with (changes and the
// train/val evidence for them are in `changes`, copied into report.md).
import type { ClassWeight } from './calibrated.js';

export interface BlockRecipe {
  name: 'unigrams' | 'ngrams';
  ngramRange: [number, number];
  minDf: number;
  maxDf: number;
  sublinearTf: boolean;
  /** Drop the stop words of `stopwords_es_safe.txt` before n-gramming. */
  useStopWords: boolean;
}

export interface Recipe {
  blocks: [BlockRecipe, BlockRecipe];
  C: number;
  classWeight: ClassWeight;
  folds: number;
  /** Threshold rule: best F1_neg on val with recall_neg ≥ minRecall. */
  minRecall: number;
  /** L-BFGS stopping rule (max |gradient| of the mean loss). */
  gtol: number;
  /** Why the recipe differs from upstream, with evidence (markdown list items). */
  changes: string[];
}

export const UPSTREAM_RECIPE: Recipe = {
  blocks: [
    { name: 'unigrams', ngramRange: [1, 1], minDf: 10, maxDf: 0.9, sublinearTf: true, useStopWords: true },
    { name: 'ngrams', ngramRange: [2, 3], minDf: 2, maxDf: 0.9, sublinearTf: true, useStopWords: false },
  ],
  C: 5,
  classWeight: null,
  folds: 5,
  minRecall: 0.9,
  gtol: 1e-9,
  changes: [],
};

export const RECIPE: Recipe = UPSTREAM_RECIPE;
