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
  /** Naive-Bayes log-count-ratio feature scaling with this smoothing α (NB-LR); null = plain logistic regression. */
  nbAlpha: number | null;
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
  nbAlpha: null,
  folds: 5,
  minRecall: 0.9,
  gtol: 1e-9,
  changes: [],
};

export const RECIPE: Recipe = {
  ...UPSTREAM_RECIPE,
  nbAlpha: 1,
  changes: [
    '- Naive-Bayes log-count-ratio scaling of the tf-idf features before the logistic regression (NB-LR, Wang &',
    '  Manning 2012; α = 1, ratios computed on each calibration fold\'s training part). Everything else is the upstream',
    '  recipe. It is the only candidate better than upstream beyond noise on both cross-validation inside train and val',
    '  (table below); the model stays linear in the tf-idf features (effective coefficients r ⊙ w), so the ONNX graph,',
    '  the scorer and the explanations are unchanged in form.',
  ],
};

/**
 * Why RECIPE is what it is: the comparison of `npm run tune` (train/val only; deterministic, so re-running it
 * reproduces the table) and two checks made against scikit-learn 1.2.1 on the same tokens. Markdown for report.md.
 */
export const RECIPE_EVIDENCE: string[] = [
  'Candidates compared with `npm run tune` (train and val only). CV = out-of-fold calibrated P(negative) of the 5',
  'calibration folds on train, threshold chosen on those scores by the same rule; it is optimistic (each fold\'s',
  'isotonic map is fitted on its own rows) but the bias is the same for every candidate. Val = threshold chosen on val.',
  '',
  '| candidate | V | CV F1_neg | CV recall_neg | CV Brier | val F1_neg | val recall_neg | val Brier |',
  '|---|---|---|---|---|---|---|---|',
  '| upstream (C 5, unigram min_df 10, 2–3-grams min_df 2) | 57586 | 0.9091 | 0.9351 | 0.0317 | 0.8972 | 0.9019 | 0.0378 |',
  '| C 2 | 57586 | 0.9053 | 0.9284 | 0.0328 | 0.8900 | 0.9040 | 0.0390 |',
  '| C 10 | 57586 | 0.9098 | 0.9163 | 0.0313 | 0.8935 | 0.9019 | 0.0374 |',
  '| C 20 | 57586 | 0.9098 | 0.9190 | 0.0314 | 0.8965 | 0.9040 | 0.0370 |',
  '| class weights balanced | 57586 | 0.9096 | 0.9257 | 0.0316 | 0.8923 | 0.9081 | 0.0376 |',
  '| class weights balanced, C 10 | 57586 | 0.9103 | 0.9239 | 0.0312 | 0.8932 | 0.9165 | 0.0370 |',
  '| unigram min_df 2 | 63497 | 0.9093 | 0.9288 | 0.0316 | 0.8976 | 0.9061 | 0.0376 |',
  '| unigram min_df 5 | 59232 | 0.9099 | 0.9154 | 0.0315 | 0.8972 | 0.9019 | 0.0378 |',
  '| n-grams 2–2 | 32618 | 0.9094 | 0.9163 | 0.0315 | 0.8967 | 0.9061 | 0.0374 |',
  '| n-gram min_df 3 | 30166 | 0.9101 | 0.9203 | 0.0312 | 0.8946 | 0.9040 | 0.0376 |',
  '| **NB log-count ratio α 1 (NB-LR) — adopted** | 57586 | 0.9104 | 0.9167 | 0.0311 | 0.9063 | 0.9186 | 0.0352 |',
  '| NB-LR α 1, C 2 | 57586 | 0.9121 | 0.9266 | 0.0311 | 0.9070 | 0.9165 | 0.0356 |',
  '| NB-LR α 1, C 10 | 57586 | 0.9086 | 0.9257 | 0.0315 | 0.9048 | 0.9228 | 0.0350 |',
  '| NB-LR α 0.5 | 57586 | 0.9140 | 0.9176 | 0.0304 | 0.9030 | 0.9040 | 0.0351 |',
  '',
  'The word-feature candidates are within ±0.005 of upstream on CV F1_neg and within ±0.008 on val F1_neg, while the',
  'standard error of F1_neg is about 0.006 on train (2,234 negatives) and 0.01 on val (479): none of them was adopted.',
  'Naive-Bayes scaling is better on every row it appears in: val F1_neg +0.009 with recall_neg 0.919 (a margin above',
  'the 0.90 floor instead of 0.902), Brier 0.0378 → 0.0352, and better CV Brier. Because the CV column above is',
  'optimistic (isotonic maps fitted on their own rows), it was also checked with an outer 5-fold CV on train (shuffled,',
  'seed 7, vectorisers refitted per fold, threshold rule on the out-of-fold scores) in scikit-learn 1.2.1: F1_neg',
  '0.9038 → 0.9122 and Brier 0.0339 → 0.0320 for NB-LR α 1 at C 5. It was adopted at the upstream C = 5 (C 2 is not',
  'better beyond noise, and not changing C keeps the val choice to one decision). Also tried: 10 calibration',
  'folds (CV F1_neg 0.917, but that figure is inflated by the smaller isotonic folds, and val fell to 0.8953) and',
  'no stop-word removal for unigrams (CV 0.9123, val 0.9000) — rejected because the data README asks to follow',
  '`stopwords_es_safe.txt` as given; 4-grams (CV 0.9087, val 0.8963) do not fit the graph\'s integer keys.',
  '',
  'Checks against scikit-learn 1.2.1 (Debian `python3-sklearn`, same tokens): the vocabulary (57,586 terms, same',
  'order) and idf (max difference 1.8e-15) are identical. The logistic regressions here are solved to max |gradient|',
  '≈ 3e-6 of ½‖w‖² + C·Σ log-loss, while scikit-learn\'s lbfgs stops at 2e-4…9e-3 (its ftol), so coefficients differ',
  'by up to 1e-3 and P(negative) by up to 4e-3; at the chosen threshold both give val F1_neg 0.8972.',
];
