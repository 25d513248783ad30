// A small deterministic labelled corpus in the data-directory layout (train.csv, val.csv, word lists), written to a
// temporary directory, so pipeline tests run in seconds and without ../shared.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_STRUCTURAL_PUNCTUATION } from '../../models/preprocessing.js';
import { UPSTREAM_RECIPE, type Recipe } from '../../models/training/recipe.js';

const POSITIVE = ['genial', 'limpio', 'amables', 'excelente', 'recomiendo', 'buen', 'ambiente', 'máquinas', 'nuevas'];
const NEGATIVE = ['sucio', 'caro', 'masificado', 'roto', 'nunca', 'peor', 'esperas', 'duchas', 'frías'];
const NEUTRAL = ['el', 'gimnasio', 'de', 'muy', 'no', 'pero', 'la', 'sala', 'monitores', 'precio', 'horario', 'clases'];

/** Deterministic pseudo-random numbers in [0, 1). */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

export interface SyntheticRow {
  comment: string;
  sentiment: 'negative' | 'positive';
}

export function syntheticRows(n: number, seed: number): SyntheticRow[] {
  const rand = prng(seed);
  const pick = (words: string[]) => words[Math.floor(rand() * words.length)]!;
  const rows: SyntheticRow[] = [];
  for (let i = 0; i < n; i++) {
    const negative = rand() < 0.3;
    const len = Math.floor(rand() * 18);
    const words: string[] = [];
    for (let k = 0; k < len; k++) {
      const r = rand();
      words.push(r < 0.35 ? pick(negative ? NEGATIVE : POSITIVE) : r < 0.45 ? pick(negative ? POSITIVE : NEGATIVE) : pick(NEUTRAL));
    }
    if (rand() < 0.2 && words.length) words.push(words[0]!, words[0]!); // repeated terms (tf > 1)
    const noisy = rand() < 0.08 ? !negative : negative;
    rows.push({ comment: (rand() < 0.3 ? 'Muy, "bien": ' : '') + words.join(rand() < 0.5 ? ' ' : '. ') + (rand() < 0.1 ? ' 💪' : ''), sentiment: noisy ? 'negative' : 'positive' });
  }
  return rows;
}

export function toCsv(rows: readonly { comment: string; sentiment: string }[]): string {
  const quote = (s: string) => `"${s.replace(/"/g, '""')}"`;
  return ['id,comment,rating,review_date,sentiment', ...rows.map((r, i) => `${i},${quote(r.comment)},3,Hace 1 año,${r.sentiment}`)].join('\n') + '\n';
}

/** Recipe for the synthetic corpus: the upstream recipe with document-frequency floors sized for a few hundred rows. */
export const SYNTHETIC_RECIPE: Recipe = {
  ...UPSTREAM_RECIPE,
  blocks: [
    { ...UPSTREAM_RECIPE.blocks[0], minDf: 2 },
    { ...UPSTREAM_RECIPE.blocks[1], minDf: 2 },
  ],
};

/** Writes a data directory; returns its path and a cleanup function. */
export async function syntheticDataDir(opts: { train?: number; val?: number; valCsv?: string } = {}): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'gsg-data-'));
  await writeFile(join(dir, 'train.csv'), toCsv(syntheticRows(opts.train ?? 400, 1)));
  await writeFile(join(dir, 'val.csv'), opts.valCsv ?? toCsv(syntheticRows(opts.val ?? 150, 2)));
  await writeFile(join(dir, 'stopwords_es_safe.txt'), '# safe stop words\nel\nde\nla\n\nmuy\n');
  await writeFile(join(dir, 'structural_punctuation.txt'), DEFAULT_STRUCTURAL_PUNCTUATION + '\n');
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
