// Turns validated texts into the JSON results of /predict and /predict/explain: tokenise, run the model
// (concurrent /predict requests coalesced into one run), apply the label-flip fault, serialise.
import { createBatcher } from './batcher.js';
import type { FaultConfig } from './config.js';
import { createResultWriter } from './response-json.js';
import type { ServingModel } from './serving-model.js';

export interface PredictOutcome {
  /** The response body: a JSON array, one object per text in request order. */
  body: string;
  negative: number;
  positive: number;
}

export interface Predictor {
  predict(texts: string[]): Promise<PredictOutcome>;
  explain(texts: string[], topK: number): Promise<PredictOutcome>;
}

type Pair = readonly [pNegative: number, pPositive: number];

export function createPredictor(model: ServingModel, opts: { batchMaxTexts: number; faults: Pick<FaultConfig, 'flip'> }): Predictor {
  const writer = createResultWriter(model.metadata.threshold, model.metadata.version);
  const flip = opts.faults.flip;
  // Column 0 = P(negative), column 1 = P(positive); the flip fault reads them the other way round.
  const neg = flip ? 1 : 0;
  const pos = flip ? 0 : 1;

  const tokenizeAll = (texts: string[]) => {
    const rows = new Array<string[]>(texts.length);
    for (let i = 0; i < texts.length; i++) rows[i] = model.tokenize(texts[i]!);
    return rows;
  };

  // Requests wait in the batcher's queue with their texts only: the token rows (tens of small strings per text) are
  // made right before the run and die young, instead of living in the queue long enough to be promoted to V8's
  // old generation, which is what made the heap grow under load.
  const batcher = createBatcher<string, Pair>(
    async (texts) => {
      const probs = await model.predictTokens(tokenizeAll(texts));
      const out = new Array<Pair>(texts.length);
      for (let i = 0; i < texts.length; i++) out[i] = [probs[2 * i + neg]!, probs[2 * i + pos]!];
      return out;
    },
    { maxItems: opts.batchMaxTexts },
  );

  return {
    async predict(texts) {
      const pairs = await batcher.submit(texts);
      let body = '[';
      let negative = 0;
      for (let i = 0; i < pairs.length; i++) {
        const [pn, pp] = pairs[i]!;
        if (i > 0) body += ',';
        body += writer.prediction(pn, pp);
        if (writer.isNegative(pn)) negative++;
      }
      return { body: body + ']', negative, positive: pairs.length - negative };
    },
    async explain(texts, topK) {
      const { probabilities, explanations } = await model.explainTokens(tokenizeAll(texts), topK);
      let body = '[';
      let negative = 0;
      for (let i = 0; i < texts.length; i++) {
        const pn = probabilities[2 * i + neg]!;
        const pp = probabilities[2 * i + pos]!;
        if (i > 0) body += ',';
        // Flipped labels invert what pushes towards which class, so the explanation is inverted too.
        const explanation = flip ? explanations[i]!.map((f) => ({ feature: f.feature, importance: -f.importance })) : explanations[i]!;
        body += writer.explained(pn, pp, explanation);
        if (writer.isNegative(pn)) negative++;
      }
      return { body: body + ']', negative, positive: texts.length - negative };
    },
  };
}
