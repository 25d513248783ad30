// tokenize() takes a shorter path than clean() + match (fewer string copies per request); it must give exactly the
// same tokens, for every review of the data set and for the awkward cases.
import { describe, expect, it } from 'vitest';
import { readLabelledCsv } from '../../models/training/dataset.js';
import { createPreprocessor, defaultPreprocessingSettings, TOKEN_PATTERN, tokenPatternOutside } from '../../models/preprocessing.js';
import { hasData, TRAIN_CSV, VAL_CSV } from '../helpers/data.js';

const pre = createPreprocessor(defaultPreprocessingSettings());
const slow = (t: string) => pre.clean(t).match(/[\p{L}\p{N}_]{2,}/gu) ?? [];

describe('tokenize', () => {
  it('gives the tokens of clean() + the token pattern on awkward inputs', () => {
    const cases = [
      'recomendable_ya muy__bien _x_ a_b',
      'genial😀bien 👍🏽 gym🇪🇸bien 1️⃣2 a©b ®x',
      'ÑANDÚ Über İstanbul ǅemal ΣΑΣ straße',
      '  tabs\tand\nnew lines  ',
      '100% 1º ½ 2x3 x²',
      '«comillas» “curvas” ‘simples’ — guión–medio',
      '',
    ];
    for (const c of cases) expect(pre.tokenize(c), c).toEqual(slow(c));
  });

  it.runIf(hasData)('gives the same tokens as clean() + match for every train and val review', async () => {
    for (const file of [TRAIN_CSV, VAL_CSV]) {
      const { texts } = await readLabelledCsv(file);
      for (const t of texts) expect(pre.tokenize(t)).toEqual(slow(t));
    }
  });

  it('falls back to cleaning first when the punctuation class is not a plain list of characters', () => {
    expect(tokenPatternOutside('[a-z]')).toBeUndefined();
    expect(tokenPatternOutside(String.raw`[\w]`)).toBeUndefined();
    const ranged = createPreprocessor({ ...defaultPreprocessingSettings('[a-c]'), token_pattern: TOKEN_PATTERN });
    expect(ranged.tokenize('abcdef xyz')).toEqual(['def', 'xyz']);
  });

  it('leaves letters of the punctuation class out of tokens, as the space they become', () => {
    const p = createPreprocessor(defaultPreprocessingSettings('[.x]'));
    expect(p.tokenize('boxing.ring')).toEqual(['bo', 'ing', 'ring']);
    expect(p.tokenize('boxing.ring')).toEqual(p.clean('boxing.ring').match(/[\p{L}\p{N}_]{2,}/gu));
  });
});
