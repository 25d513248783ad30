// Preprocessing shared by training and serving: emoji removal, lowercase with accents kept, structural punctuation
// to spaces, whitespace collapsed, scikit-learn's token pattern.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPreprocessor, DEFAULT_STRUCTURAL_PUNCTUATION } from '../../models/preprocessing.js';
import { DATA_DIR, hasData } from '../helpers/data.js';

const pre = createPreprocessor();

describe('preprocessing', () => {
  it('removes emoji, including skin tones, flags, keycaps and ZWJ sequences', () => {
    expect(pre.clean('genial 💪🏽 gym 🇪🇸 1️⃣ 👨‍👩‍👧 ok')).toBe('genial gym 1 ok');
  });

  it('lowercases and keeps accents and ñ', () => {
    expect(pre.clean('Música ÁÉÍÓÚ Ñandú Pingüino')).toBe('música áéíóú ñandú pingüino');
  });

  it('replaces structural punctuation with a space', () => {
    expect(pre.clean('hola,que.tal;bien:(sí)[no]{x}<y>a-b_c/d\\e|f\'g"h«i»j“k”l‘m’n`o~p^q@r#s$t%u&v*w=x+y')).toBe(
      'hola que tal bien sí no x y a b c d e f g h i j k l m n o p q r s t u v w x y',
    );
  });

  it('keeps punctuation outside the structural class (it is dropped by the tokenizer)', () => {
    expect(pre.clean('¡Genial!¿Qué?')).toBe('¡genial!¿qué?');
    expect(pre.tokenize('¡Genial!¿Qué?')).toEqual(['genial', 'qué']);
  });

  it('collapses whitespace and trims', () => {
    expect(pre.clean('  muy \n\t bien   gym  ')).toBe('muy bien gym');
  });

  it('tokenizes runs of two or more word characters, as scikit-learn (?u)\\b\\w\\w+\\b', () => {
    expect(pre.tokenize('y a la 2 veces 10€ 24h')).toEqual(['la', 'veces', '10', '24h']);
  });

  it('gives no tokens for an empty or emoji-only text', () => {
    expect(pre.tokenize('')).toEqual([]);
    expect(pre.tokenize('💪 👍')).toEqual([]);
  });

  it.skipIf(!hasData)('uses the same structural punctuation class as the data set', () => {
    const cls = readFileSync(join(DATA_DIR, 'structural_punctuation.txt'), 'utf8').trim();
    expect(cls).toBe(DEFAULT_STRUCTURAL_PUNCTUATION);
  });
});
