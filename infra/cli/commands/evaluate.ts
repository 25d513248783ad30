// `gsg evaluate`: scores a labelled CSV through ONNX Runtime exactly as the model server does (same preprocessing,
// same graph, same threshold) and prints the metrics as a table or one JSON object.
import { z } from 'zod';
import type { EvalMetrics } from '../../../models/artifact.js';
import { loadOnnxModel, pNegativeAt } from '../../../models/onnx-model.js';
import { readLabelledCsv } from '../../../models/training/dataset.js';
import { evaluateScores } from '../../../models/training/metrics.js';
import { parseOptions } from '../options.js';

const Options = z.object({
  model: z.string().min(1),
  data: z.string().min(1),
  json: z.boolean().optional(),
});

const f4 = (v: number) => v.toFixed(4);

export function formatMetricsTable(m: EvalMetrics): string {
  const c = m.confusion;
  return [
    `n ${m.n}   threshold on P(negative) ${m.threshold}`,
    '',
    'class      precision  recall   f1',
    `negative   ${f4(m.negative.precision)}     ${f4(m.negative.recall)}   ${f4(m.negative.f1)}`,
    `positive   ${f4(m.positive.precision)}     ${f4(m.positive.recall)}   ${f4(m.positive.f1)}`,
    '',
    `brier ${f4(m.brier)}   ece ${f4(m.ece)}   (on P(negative))`,
    '',
    '                  predicted negative  predicted positive',
    `actual negative   ${String(c.tn).padStart(18)}  ${String(c.fp).padStart(18)}`,
    `actual positive   ${String(c.fn).padStart(18)}  ${String(c.tp).padStart(18)}`,
    '',
  ].join('\n');
}

export async function run(opts: Record<string, unknown>): Promise<number> {
  const o = parseOptions(Options, opts);
  const data = await readLabelledCsv(o.data);
  const model = await loadOnnxModel(o.model);
  try {
    const probs = await model.predictTexts(data.texts);
    const pNeg = Array.from({ length: data.texts.length }, (_, i) => pNegativeAt(probs, i));
    const metrics = evaluateScores(pNeg, data.labels, model.metadata.threshold);
    process.stdout.write(o.json ? JSON.stringify(metrics) + '\n' : `${model.metadata.model_name} ${model.metadata.version} on ${o.data}\n${formatMetricsTable(metrics)}`);
  } finally {
    await model.close();
  }
  return 0;
}
