// Recipe comparison on train/val only (`npm run tune`): for each candidate recipe, out-of-fold (cross-validated)
// metrics on train at the threshold the rule picks on those out-of-fold scores, and val metrics at the threshold
// the rule picks on val. Prints a markdown table; the evidence in recipe.ts and report.md comes from it.
import { pathToFileURL } from 'node:url';
import { createPreprocessor } from '../preprocessing.js';
import type { EvalMetrics } from '../artifact.js';
import { predictCalibrated } from './calibrated.js';
import { evaluateScores } from './metrics.js';
import { fitModel, loadTrainingData, type TrainingData } from './pipeline.js';
import { UPSTREAM_RECIPE, type Recipe } from './recipe.js';
import { transform } from './tfidf.js';
import { searchThreshold } from './threshold.js';

export interface Candidate {
  name: string;
  recipe: Recipe;
}

export interface Comparison {
  name: string;
  vocabulary: number;
  /** Out-of-fold on train at the out-of-fold threshold (optimistic: each fold's isotonic is fitted on its own rows). */
  cv: EvalMetrics;
  /** Val at the threshold chosen on val (the rule `gsg train` applies). */
  val: EvalMetrics;
}

export async function compareRecipes(data: TrainingData, candidates: readonly Candidate[]): Promise<Comparison[]> {
  const pre = createPreprocessor(data.preprocessing);
  const train = data.train.texts.map((t) => pre.tokenize(t));
  const val = data.val.texts.map((t) => pre.tokenize(t));
  const out: Comparison[] = [];
  for (const c of candidates) {
    const { space, calibrated } = await fitModel(train, data.train.labels, data.stopWords, c.recipe);
    const oof = Array.from(calibrated.heldOutProbability, (p) => 1 - p);
    const pVal = Array.from(predictCalibrated(calibrated.folds, transform(space, val)), (p) => 1 - p);
    out.push({
      name: c.name,
      vocabulary: space.size,
      cv: evaluateScores(oof, data.train.labels, searchThreshold(oof, data.train.labels, c.recipe.minRecall).chosen.threshold),
      val: evaluateScores(pVal, data.val.labels, searchThreshold(pVal, data.val.labels, c.recipe.minRecall).chosen.threshold),
    });
  }
  return out;
}

const vary = (name: string, change: Partial<Recipe>, blocks?: [Partial<Recipe['blocks'][0]>, Partial<Recipe['blocks'][1]>]): Candidate => ({
  name,
  recipe: { ...UPSTREAM_RECIPE, ...change, blocks: blocks ? [{ ...UPSTREAM_RECIPE.blocks[0], ...blocks[0] }, { ...UPSTREAM_RECIPE.blocks[1], ...blocks[1] }] : UPSTREAM_RECIPE.blocks },
});

/** The candidates compared for the bundled model. */
export const CANDIDATES: Candidate[] = [
  vary('upstream (C 5, unigram min_df 10, 2–3-grams min_df 2)', {}),
  vary('C 2', { C: 2 }),
  vary('C 10', { C: 10 }),
  vary('C 20', { C: 20 }),
  vary('class weights balanced', { classWeight: 'balanced' }),
  vary('class weights balanced, C 10', { classWeight: 'balanced', C: 10 }),
  vary('unigram min_df 2', {}, [{ minDf: 2 }, {}]),
  vary('unigram min_df 5', {}, [{ minDf: 5 }, {}]),
  vary('n-grams 2–2', {}, [{}, { ngramRange: [2, 2] }]),
  vary('n-gram min_df 3', {}, [{}, { minDf: 3 }]),
  vary('NB log-count ratio α 1 (NB-LR)', { nbAlpha: 1 }),
  vary('NB-LR α 1, C 2', { nbAlpha: 1, C: 2 }),
  vary('NB-LR α 1, C 10', { nbAlpha: 1, C: 10 }),
  vary('NB-LR α 0.5', { nbAlpha: 0.5 }),
];

export function comparisonTable(rows: readonly Comparison[]): string {
  const f = (v: number) => v.toFixed(4);
  return [
    '| candidate | V | CV F1_neg | CV recall_neg | CV Brier | val F1_neg | val recall_neg | val Brier |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.name} | ${r.vocabulary} | ${f(r.cv.negative.f1)} | ${f(r.cv.negative.recall)} | ${f(r.cv.brier)} | ${f(r.val.negative.f1)} | ${f(r.val.negative.recall)} | ${f(r.val.brier)} |`),
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dataDir = process.argv[2] ?? '../shared/data/gym-reviews';
  const rows = await compareRecipes(await loadTrainingData(dataDir), CANDIDATES);
  console.log(comparisonTable(rows));
}
