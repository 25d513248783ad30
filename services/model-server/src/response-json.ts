// Hand-built JSON for the fixed prediction shapes (the hot path's response): string concatenation of
// pre-escaped constants is several times faster than JSON.stringify on an array of objects.
import type { FeatureImportance } from './api-schemas.js';

/** Probabilities are float32 in the model: six decimals keep all their precision without float64 noise. */
export function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

export interface ResultWriter {
  /** The JSON object of one prediction (no explanation). */
  prediction(pNegative: number, pPositive: number): string;
  /** The same with an `explanation` array. */
  explained(pNegative: number, pPositive: number, explanation: FeatureImportance[]): string;
  /** negative iff P(negative) >= threshold. */
  isNegative(pNegative: number): boolean;
}

export function createResultWriter(threshold: number, modelVersion: string): ResultWriter {
  const versionTail = `,"model_version":${JSON.stringify(modelVersion)}`;
  const head = (pNeg: number, pPos: number): string => {
    if (!Number.isFinite(pNeg) || !Number.isFinite(pPos)) throw new Error(`model returned non-finite probabilities (${pNeg}, ${pPos})`);
    const neg = pNeg >= threshold;
    const n = round6(pNeg);
    const p = round6(pPos);
    return `{"sentiment":${neg ? '"negative"' : '"positive"'},"confidence":${neg ? n : p},"probability_positive":${p},"probability_negative":${n}${versionTail}`;
  };
  return {
    prediction: (pNeg, pPos) => head(pNeg, pPos) + '}',
    explained(pNeg, pPos, explanation) {
      let out = head(pNeg, pPos) + ',"explanation":[';
      for (let i = 0; i < explanation.length; i++) {
        const f = explanation[i]!;
        if (i > 0) out += ',';
        out += `{"feature":${JSON.stringify(f.feature)},"importance":${Number.isFinite(f.importance) ? round6(f.importance) : 0}}`;
      }
      return out + ']}';
    },
    isNegative: (pNeg) => pNeg >= threshold,
  };
}
