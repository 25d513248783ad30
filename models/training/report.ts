// report.md of a trained version: val metrics, confusion matrix, the threshold and its full search, the recipe and
// what changed from upstream (with evidence), convergence of each fold, and the two figures.
import type { EvalMetrics } from '../artifact.js';
import type { LogRegFit } from './logreg.js';
import type { ReliabilityBin } from './metrics.js';
import { RECIPE_EVIDENCE, UPSTREAM_RECIPE, type Recipe } from './recipe.js';
import type { FeatureSpace } from './tfidf.js';
import type { ThresholdSearch } from './threshold.js';

export interface ReportInput {
  version: string;
  recipe: Recipe;
  space: FeatureSpace;
  val: EvalMetrics;
  /** Out-of-fold (cross-validated) metrics on train at the same threshold. */
  cv: EvalMetrics;
  search: ThresholdSearch;
  reliability: ReliabilityBin[];
  fits: LogRegFit[];
  files: Record<string, { sha256: string; rows: number }>;
}

const f4 = (v: number) => v.toFixed(4);

function metricsRows(m: EvalMetrics): string[] {
  return [
    `| F1 negative | ${f4(m.negative.f1)} |`,
    `| recall negative | ${f4(m.negative.recall)} |`,
    `| precision negative | ${f4(m.negative.precision)} |`,
    `| F1 positive | ${f4(m.positive.f1)} |`,
    `| recall positive | ${f4(m.positive.recall)} |`,
    `| precision positive | ${f4(m.positive.precision)} |`,
    `| Brier (P(negative)) | ${f4(m.brier)} |`,
    `| ECE (10 bins, P(negative)) | ${f4(m.ece)} |`,
  ];
}

function describeRecipe(r: Recipe): string[] {
  const cw = r.classWeight === null ? 'none' : typeof r.classWeight === 'string' ? r.classWeight : `negative ${r.classWeight.negative}, positive ${r.classWeight.positive}`;
  return [
    ...r.blocks.map((b) => `- ${b.name}: word ${b.ngramRange[0]}–${b.ngramRange[1]}-grams, min_df ${b.minDf}, max_df ${b.maxDf}, ${b.sublinearTf ? 'sublinear tf' : 'raw tf'}, ${b.useStopWords ? 'stop words of stopwords_es_safe.txt dropped' : 'no stop words'}, L2-normalised`),
    `- logistic regression: L2, C = ${r.C}, class weights ${cw}, ${r.nbAlpha === null ? 'no feature scaling' : `features scaled by their Naive-Bayes log-count ratio (α = ${r.nbAlpha}, per fold)`}, L-BFGS to max |gradient| ≤ ${r.gtol} (mean loss)`,
    `- calibration: isotonic, ${r.folds}-fold stratified CV (no shuffle), probabilities averaged over the folds`,
    `- threshold on P(negative): best F1_neg on val with recall_neg ≥ ${r.minRecall}`,
  ];
}

export function renderReport(input: ReportInput): string {
  const { val, cv, search, recipe } = input;
  const c = val.confusion;
  const lines: string[] = [
    `# sentiment-logreg ${input.version} — training report`,
    '',
    'Calibrated TF-IDF + logistic regression for Spanish gym reviews. Every figure below is on `val.csv` unless marked',
    'otherwise; nothing was tuned on any other split. Predictions come from ONNX Runtime running `model.onnx`, exactly as',
    'the model server scores.',
    '',
    '## Val metrics',
    '',
    `Threshold on P(negative): **${search.chosen.threshold}** (a text is \`negative\` iff P(negative) ≥ threshold), n = ${val.n}.`,
    '',
    '| metric | val | train, out-of-fold (CV)¹ |',
    '|---|---|---|',
    ...metricsRows(val).map((row, i) => `${row} ${metricsRows(cv)[i]!.split('|')[2]!.trim()} |`),
    '',
    '¹ Each train row scored by the fold model that did not see it, at the same threshold. The isotonic map of a fold',
    'is fitted on those same rows, so calibration figures in this column (Brier, ECE) are optimistic by construction.',
    '',
    '### Confusion matrix (val)',
    '',
    '| | predicted negative | predicted positive |',
    '|---|---|---|',
    `| actual negative | ${c.tn} | ${c.fp} |`,
    `| actual positive | ${c.fn} | ${c.tp} |`,
    '',
    '(In `metadata.json` the confusion matrix follows scikit-learn with `positive` as the positive class:',
    '`tn` = negatives predicted negative, `fp` = negatives predicted positive, `fn` = positives predicted negative.)',
    '',
    '## Figures',
    '',
    '![Reliability diagram of P(negative) on val](reliability.svg)',
    '',
    '![Precision-recall curve of the negative class on val, threshold marked](pr-curve.svg)',
    '',
    '## Recipe',
    '',
    ...describeRecipe(recipe),
    `- vocabulary: ${input.space.blocks.map((b, k) => `${recipe.blocks[k]!.name} ${b.terms.length}`).join(', ')} (V = ${input.space.size})`,
    '',
    '### Changes from the upstream recipe',
    '',
    ...(recipe.changes.length ? recipe.changes : ['None adopted: the upstream recipe as published (evidence below).']),
    '',
    ...(recipe === UPSTREAM_RECIPE ? [] : ['Upstream recipe for comparison:', '', ...describeRecipe(UPSTREAM_RECIPE), '']),
    '### Evidence (train and val only)',
    '',
    ...RECIPE_EVIDENCE,
    '',
    '### Solver convergence per fold',
    '',
    '| fold | iterations | function evaluations | max gradient (mean loss) | converged |',
    '|---|---|---|---|---|',
    ...input.fits.map((f, i) => `| ${i + 1} | ${f.iterations} | ${f.evaluations} | ${f.gradNorm.toExponential(2)} | ${f.converged ? 'yes' : 'no'} |`),
    '',
    '## Reliability (val)',
    '',
    '| P(negative) bin | rows | mean predicted | observed negative |',
    '|---|---|---|---|',
    ...input.reliability.map((b) => `| ${b.lo.toFixed(1)}–${b.hi.toFixed(1)} | ${b.count} | ${b.count ? f4(b.meanPredicted) : '—'} | ${b.count ? f4(b.observed) : '—'} |`),
    '',
    '## Threshold search (val)',
    '',
    `Every cut between two distinct P(negative) values was tried (${search.candidates.length} cuts; the threshold shown for a cut is the`,
    `shortest decimal inside it). Rule: maximise F1_neg subject to recall_neg ≥ ${search.minRecall}; ties go to the higher threshold.`,
    `Chosen: **${search.chosen.threshold}** — precision ${f4(search.chosen.precision)}, recall ${f4(search.chosen.recall)}, F1 ${f4(search.chosen.f1)}.`,
    '',
    `Recall margin: the held-out split is judged on recall_neg ≥ ${search.minRecall} too. At this threshold the out-of-fold`,
    `scores of train give recall_neg ${f4(cv.negative.recall)} on ${cv.confusion.tn + cv.confusion.fp} negatives (val: ${f4(val.negative.recall)} on ${val.confusion.tn + val.confusion.fp}),`,
    `so the val figure${val.negative.recall < cv.negative.recall ? ' is the low side of what the model does' : ' is not an outlier'}; the out-of-fold figure is somewhat optimistic (in-fold isotonic).`,
    '',
    '<details><summary>All cuts (threshold, rows predicted negative, precision, recall, F1 of the negative class)</summary>',
    '',
    '| threshold | predicted negative | precision | recall | F1 | |',
    '|---|---|---|---|---|---|',
    ...search.candidates.map((k) => `| ${k.threshold} | ${k.predictedNegative} | ${f4(k.precision)} | ${f4(k.recall)} | ${f4(k.f1)} | ${k === search.chosen ? '**chosen**' : k.recall < search.minRecall ? 'recall too low' : ''} |`),
    '',
    '</details>',
    '',
    '## Data',
    '',
    '| file | rows | sha256 |',
    '|---|---|---|',
    ...Object.entries(input.files).map(([name, f]) => `| ${name} | ${f.rows} | \`${f.sha256}\` |`),
    '',
  ];
  return lines.join('\n');
}
