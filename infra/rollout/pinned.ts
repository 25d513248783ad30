// Requests pinned to one color through the router (`x-gsg-color`): what the golden gate and the blue-green smoke
// test send, so what is tested is exactly what is deployed behind the router.
import type { Color } from '../runtime.js';
import type { GoldenRow } from './spec.js';

export interface PredictResult {
  sentiment: 'negative' | 'positive';
  probability_negative: number;
}

const BATCH = 100;

/** POST /predict pinned to `color`; throws with the status and detail on anything but 200. */
export async function predictPinned(routerUrl: string, color: Color, texts: string[], timeoutMs = 30_000): Promise<PredictResult[]> {
  const res = await fetch(`${routerUrl}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-gsg-color': color },
    body: JSON.stringify({ texts }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${color} answered ${res.status}: ${text.slice(0, 200)}`);
  const body = JSON.parse(text) as { predictions?: PredictResult[] } | PredictResult[];
  const preds = Array.isArray(body) ? body : body.predictions;
  if (!Array.isArray(preds) || preds.length !== texts.length) throw new Error(`${color} answered an unexpected body: ${text.slice(0, 200)}`);
  return preds;
}

export interface GoldenScore {
  n: number;
  f1Negative: number;
  precisionNegative: number;
  recallNegative: number;
}

/** Scores labelled rows through one color; F1 of the negative class as the server decides it (its own threshold). */
export async function scoreGolden(routerUrl: string, color: Color, rows: GoldenRow[]): Promise<GoldenScore> {
  let tn = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < rows.length; i += BATCH) {
    const batch = rows.slice(i, i + BATCH);
    const preds = await predictPinned(routerUrl, color, batch.map((r) => r.text));
    preds.forEach((p, j) => {
      const isNeg = batch[j]!.label === 'negative';
      const predNeg = p.sentiment === 'negative';
      if (isNeg && predNeg) tn++;
      else if (isNeg) fp++;
      else if (predNeg) fn++;
    });
  }
  const precision = tn + fn > 0 ? tn / (tn + fn) : 0;
  const recall = tn + fp > 0 ? tn / (tn + fp) : 0;
  return { n: rows.length, precisionNegative: precision, recallNegative: recall, f1Negative: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0 };
}

const SMOKE_TEXTS = [
  'el gimnasio está genial, las máquinas son nuevas y el personal muy amable',
  'muy sucio, las máquinas rotas y el personal maleducado, no lo recomiendo',
];

/** A few pinned single-text predictions; throws on the first failure. */
export async function smokeTest(routerUrl: string, color: Color, requests = 10): Promise<void> {
  for (let i = 0; i < requests; i++) await predictPinned(routerUrl, color, [SMOKE_TEXTS[i % SMOKE_TEXTS.length]!], 10_000);
}
