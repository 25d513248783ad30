// Reading the labelled CSVs and word lists: a real CSV parser, and errors naming the file, row and field.
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../lib/exit-codes.js';
import { parseLabelledCsv, parseWordList, readLabelledCsv } from '../../models/training/dataset.js';

describe('labelled CSV', () => {
  it('reads quoted, multi-line comments and maps labels to negative = 0, positive = 1', () => {
    const data = parseLabelledCsv('\ufeffid,comment,sentiment\n1,"muy bien, ""genial""\nvolveré",positive\n2,mal,negative\n', 'x.csv');
    expect(data.texts).toEqual(['muy bien, "genial"\nvolveré', 'mal']);
    expect(Array.from(data.labels)).toEqual([1, 0]);
  });

  it('names a missing column', () => {
    expect(() => parseLabelledCsv('id,text,sentiment\n1,a,positive\n', 'x.csv')).toThrow('x.csv: missing column "comment"');
  });

  it('rejects an empty file and a header-only file', () => {
    expect(() => parseLabelledCsv('', 'x.csv')).toThrow('x.csv: empty CSV');
    expect(() => parseLabelledCsv('comment,sentiment\n', 'x.csv')).toThrow('x.csv: empty CSV (header only, no rows)');
  });

  it('names the row and the value of an unknown label', () => {
    expect(() => parseLabelledCsv('comment,sentiment\na,positive\nb,neutral\n', 'x.csv')).toThrow('x.csv: row 2: sentiment must be "negative" or "positive", got "neutral"');
  });

  it('reports a malformed CSV with the parser message', () => {
    expect(() => parseLabelledCsv('comment,sentiment\n"open quote,positive\n', 'x.csv')).toThrow(/^x\.csv: not a valid CSV/);
  });

  it('fails on a missing file with the not-found exit code', async () => {
    await expect(readLabelledCsv('/nonexistent/val.csv')).rejects.toMatchObject({ message: '/nonexistent/val.csv: missing or unreadable', exitCode: ExitCode.NotFound });
  });
});

describe('word lists', () => {
  it('ignores comments and blank lines', () => {
    expect(parseWordList('# header\nde\n\n  el \n# más\nmuy\n')).toEqual(['de', 'el', 'muy']);
  });
});
