// The model server's API shapes as zod schemas: request bodies are validated with exactly these, and
// /openapi.json is generated from them (requests and responses), so the docs cannot drift from the code.
import { z } from 'zod';

export const MAX_TEXTS = 100;
export const MAX_TEXT_BYTES = 5120;
export const DEFAULT_TOP_K = 10;
export const MAX_TOP_K = 100;

const Texts = z
  .array(z.string(), { error: (i) => (i.input === undefined ? 'Field required' : 'Input should be a valid list of strings') })
  .min(1, { error: `List should have at least 1 item` })
  .max(MAX_TEXTS, { error: `List should have at most ${MAX_TEXTS} items` })
  .superRefine((texts, ctx) => {
    for (let i = 0; i < texts.length; i++) {
      if (texts[i]!.trim() === '') ctx.addIssue({ code: 'custom', path: [i], message: `Text at index ${i} cannot be empty or whitespace only` });
    }
  })
  .describe(`Reviews to classify, 1 to ${MAX_TEXTS}; each non-blank and at most ${MAX_TEXT_BYTES} UTF-8 bytes (400 above that).`);

export const PredictRequest = z.object({ texts: Texts }).meta({ example: { texts: ['Excelente gimnasio, muy limpio', 'Las máquinas siempre rotas'] } });
export type PredictRequest = z.infer<typeof PredictRequest>;

export const ExplainRequest = z
  .object({
    texts: Texts,
    top_k: z
      .number({ error: 'Input should be a valid integer' })
      .int({ error: 'Input should be a valid integer' })
      .min(1, { error: 'Input should be greater than or equal to 1' })
      .max(MAX_TOP_K, { error: `Input should be less than or equal to ${MAX_TOP_K}` })
      .default(DEFAULT_TOP_K)
      .describe('How many features to return per text, by absolute importance.'),
  })
  .meta({ example: { texts: ['El vestuario está sucio'], top_k: 5 } });
export type ExplainRequest = z.infer<typeof ExplainRequest>;

const Probability = z.number().min(0).max(1);

export const Prediction = z
  .object({
    sentiment: z.enum(['negative', 'positive']).describe('negative iff probability_negative >= the model threshold'),
    confidence: Probability.describe('probability of the predicted class'),
    probability_positive: Probability,
    probability_negative: Probability,
    model_version: z.string(),
  })
  ;
export type Prediction = z.infer<typeof Prediction>;

export const FeatureImportance = z
  .object({ feature: z.string(), importance: z.number().describe('signed: tf-idf value × coefficient; positive pushes towards positive') })
  ;
export type FeatureImportance = z.infer<typeof FeatureImportance>;

export const ExplainedPrediction = Prediction.extend({ explanation: z.array(FeatureImportance) });

export const PredictResponse = z.array(Prediction).describe('One result per text, in request order.');
export const ExplainResponse = z.array(ExplainedPrediction).describe('One result per text, in request order.');

export const HealthResponse = z.object({ status: z.literal('ok') });
export const ReadyResponse = z
  .object({ status: z.literal('ready'), model_loaded: z.literal(true), model_version: z.string() })
  ;

const ClassMetrics = z.object({ precision: z.number(), recall: z.number(), f1: z.number() });
export const ModelInfoResponse = z
  .object({
    model_name: z.string(),
    version: z.string(),
    threshold: Probability.describe('on probability_negative'),
    target_class: z.literal('negative'),
    label_mapping: z.object({ negative: z.literal(0), positive: z.literal(1) }),
    sha256: z.string().describe('sha256 of model.onnx: the identity of this version'),
    created_at: z.string(),
    metrics: z.object({
      val: z.object({ n: z.number().int(), threshold: z.number(), negative: ClassMetrics, positive: ClassMetrics, brier: z.number(), ece: z.number() }).loose(),
    }),
    faults: z
      .object({ error_rate: z.number(), latency_ms: z.number(), flip: z.boolean() })
      .optional()
      .describe('Present only when fault injection (GSG_FAULT_*) is on.'),
  })
  ;
export type ModelInfoResponse = z.infer<typeof ModelInfoResponse>;

export const ErrorResponse = z.object({ detail: z.string() });
