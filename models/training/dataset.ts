// Reads the labelled review CSVs (`comment`, `sentiment`) and the word lists of the data directory, with errors
// that name the file, row and field. Labels follow the artifact's label_mapping: negative = 0, positive = 1.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { BadInputError, GsgError } from '../../lib/errors.js';
import { ExitCode } from '../../lib/exit-codes.js';

export const TEXT_COLUMN = 'comment';
export const LABEL_COLUMN = 'sentiment';
export const LABELS = ['negative', 'positive'] as const;

export interface LabelledData {
  file: string;
  texts: string[];
  /** 0 = negative, 1 = positive. */
  labels: Uint8Array;
}

/** A data file that does not exist or cannot be read (exit code 3). */
export class DataFileNotFoundError extends GsgError {
  constructor(file: string, cause?: unknown) {
    super(`${file}: missing or unreadable`, { code: 'not_found', context: { file }, exitCode: ExitCode.NotFound, cause });
  }
}

async function readDataFile(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new DataFileNotFoundError(file, err);
  }
}

export async function readTextFile(file: string): Promise<string> {
  return (await readDataFile(file)).toString('utf8');
}

/** Parses a labelled CSV text; `file` is only used in error messages. */
export function parseLabelledCsv(text: string, file: string): LabelledData {
  let records: string[][];
  try {
    records = parse(text, { bom: true, skip_empty_lines: true, relax_quotes: false }) as string[][];
  } catch (err) {
    throw new BadInputError(`${file}: not a valid CSV (${(err as Error).message})`, { file });
  }
  const header = records[0];
  if (!header) throw new BadInputError(`${file}: empty CSV (no header row)`, { file });
  const names = header.map((h) => h.trim());
  const textIdx = names.indexOf(TEXT_COLUMN);
  const labelIdx = names.indexOf(LABEL_COLUMN);
  for (const [col, idx] of [[TEXT_COLUMN, textIdx], [LABEL_COLUMN, labelIdx]] as const) {
    if (idx < 0) throw new BadInputError(`${file}: missing column "${col}" (header: ${names.join(',')})`, { file, column: col });
  }
  const n = records.length - 1;
  if (n === 0) throw new BadInputError(`${file}: empty CSV (header only, no rows)`, { file });
  const texts: string[] = new Array(n);
  const labels = new Uint8Array(n);
  for (let r = 0; r < n; r++) {
    const rec = records[r + 1]!;
    const label = rec[labelIdx]?.trim();
    if (label === 'negative') labels[r] = 0;
    else if (label === 'positive') labels[r] = 1;
    else throw new BadInputError(`${file}: row ${r + 1}: ${LABEL_COLUMN} must be "negative" or "positive", got ${JSON.stringify(label ?? null)}`, { file, row: r + 1, field: LABEL_COLUMN });
    const comment = rec[textIdx];
    if (comment === undefined) throw new BadInputError(`${file}: row ${r + 1}: missing ${TEXT_COLUMN}`, { file, row: r + 1, field: TEXT_COLUMN });
    texts[r] = comment;
  }
  return { file, texts, labels };
}

/** A labelled CSV file, with the sha256 of the bytes it was parsed from (one read). */
export async function readLabelledCsv(file: string): Promise<LabelledData & { sha256: string }> {
  const bytes = await readDataFile(file);
  return { ...parseLabelledCsv(bytes.toString('utf8'), file), sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** A word list: one entry per line; blank lines and lines starting with `#` are ignored. */
export function parseWordList(text: string): string[] {
  const words: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const w = line.trim();
    if (w && !w.startsWith('#')) words.push(w);
  }
  return words;
}

/** The structural punctuation file: the regex character class on its first non-comment line. */
export function parsePunctuationClass(text: string, file: string): string {
  const cls = parseWordList(text)[0];
  if (!cls || !cls.startsWith('[') || !cls.endsWith(']')) throw new BadInputError(`${file}: expected a regex character class like [.,;]`, { file });
  return cls;
}
