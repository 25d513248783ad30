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
  const tokenRe = tokenPatternOutside(settings.structural_punctuation);
  return {
    clean,
    // Same tokens as clean(text).match(TOKEN_RE), with two string copies instead of five: replacing punctuation and
    // whitespace by a space only matters for tokens where a punctuation character is itself a word character (the
    // `_` of the default class), and tokenPatternOutside() leaves those out of the token pattern instead.
    tokenize: tokenRe
      ? (text) => {
          let t = text;
          if (settings.remove_emoji && EMOJI_TEST.test(t)) t = t.replace(EMOJI_RE, '');
          if (settings.lowercase) t = t.toLowerCase();
          return t.match(tokenRe) ?? [];
        }
      : (text) => clean(text).match(TOKEN_RE) ?? [],
  };
}

const EMOJI_TEST = new RegExp(EMOJI_RE.source, 'u');
const WORD_CHAR = /^[\p{L}\p{N}_]$/u;

/**
 * The token pattern minus the word characters the punctuation class replaces by a space, when the class is a plain
 * list of characters (no ranges or escapes like \w); undefined otherwise (tokenize then cleans first).
 */
export function tokenPatternOutside(cls: string): RegExp | undefined {
  if (!cls.startsWith('[') || !cls.endsWith(']') || cls.startsWith('[^')) return undefined;
  const body = cls.slice(1, -1);
  const chars: string[] = [];
  for (let i = 0; i < body.length; i++) {
    let c = body[i]!;
    if (c === '\\') {
      const next = body[++i];
      if (next === undefined || /[A-Za-z0-9]/.test(next)) return undefined; // \w, \d, \uXXXX...: not a plain list
      c = next;
    } else if (c === '-' && i > 0 && i < body.length - 1) {
      return undefined; // a range
    } else {
      const cp = body.codePointAt(i)!;
      c = String.fromCodePoint(cp);
      i += c.length - 1;
    }
    chars.push(c);
  }
  const excluded = chars.filter((c) => WORD_CHAR.test(c));
  const escape = (c: string) => `\\u{${c.codePointAt(0)!.toString(16)}}`;
  if (excluded.length === 0) return TOKEN_RE;
  if (excluded.every((c) => c === '_')) return /[\p{L}\p{N}]{2,}/gu;
  // [\p{L}\p{N}_] without the excluded characters: a lookahead per position keeps it one regex.
  return new RegExp(`(?:(?![${excluded.map(escape).join('')}])[\\p{L}\\p{N}_]){2,}`, 'gu');
}
