// Text preprocessing shared by training and serving, so a review is cleaned and tokenised the same way in both:
// remove emoji, lowercase, structural punctuation -> space, collapse whitespace, trim; then scikit-learn's
// default token pattern (?u)\b\w\w+\b (runs of two or more Unicode word characters).
import type { ModelMetadata } from './artifact.js';

export type PreprocessingSettings = ModelMetadata['preprocessing'];

/** The structural punctuation class of the upstream model (`structural_punctuation.txt`). */
export const DEFAULT_STRUCTURAL_PUNCTUATION = String.raw`[.,;:\(\)\[\]\{\}<>\-–—_/\\|'\"«»“”‘’` + '`' + String.raw`~^@#$%&*=+©®]`;

/** Python's `\w` in a str pattern is letters, numbers and underscore; `\b\w\w+\b` = maximal runs of length >= 2. */
export const TOKEN_PATTERN = String.raw`(?u)\b\w\w+\b`;
const TOKEN_RE = /[\p{L}\p{N}_]{2,}/gu;

/** Pictographs, skin-tone modifiers, flags, keycaps, variation selectors, ZWJ and tag characters. */
const EMOJI_RE = /\p{Extended_Pictographic}|\p{Emoji_Modifier}|\p{Regional_Indicator}|[\u{FE0E}\u{FE0F}\u{200D}\u{20E3}\u{E0020}-\u{E007F}]/gu;
const WHITESPACE_RE = /\s+/gu;

export function defaultPreprocessingSettings(structuralPunctuation = DEFAULT_STRUCTURAL_PUNCTUATION): PreprocessingSettings {
  return { remove_emoji: true, lowercase: true, structural_punctuation: structuralPunctuation, collapse_whitespace: true, token_pattern: TOKEN_PATTERN };
}

/**
 * Converts a Python regex character class to a JavaScript one: identity escapes such as `\"` are errors in
 * JavaScript's unicode mode, so every escaped character that is not a letter or digit is written as \uXXXX.
 */
export function pythonClassToJs(cls: string): RegExp {
  let out = '';
  for (let i = 0; i < cls.length; i++) {
    const c = cls[i]!;
    if (c === '\\' && i + 1 < cls.length) {
      const next = cls[i + 1]!;
      if (/[A-Za-z0-9]/.test(next)) out += c + next;
      else out += `\\u{${next.codePointAt(0)!.toString(16)}}`;
      i++;
    } else {
      out += c;
    }
  }
  return new RegExp(out, 'gu');
}

export interface Preprocessor {
  /** The cleaned text (what the vectoriser sees before tokenising). */
  clean(text: string): string;
  /** Cleaned then tokenised. */
  tokenize(text: string): string[];
}

export function createPreprocessor(settings: PreprocessingSettings = defaultPreprocessingSettings()): Preprocessor {
  if (settings.token_pattern !== TOKEN_PATTERN) throw new Error(`unsupported token_pattern ${settings.token_pattern}`);
  const punct = pythonClassToJs(settings.structural_punctuation);
  const clean = (text: string): string => {
    let t = text;
    if (settings.remove_emoji) t = t.replace(EMOJI_RE, '');
    if (settings.lowercase) t = t.toLowerCase();
    t = t.replace(punct, ' ');
    if (settings.collapse_whitespace) t = t.replace(WHITESPACE_RE, ' ');
    return t.trim();
  };
  return {
    clean,
    tokenize: (text) => clean(text).match(TOKEN_RE) ?? [],
  };
}
