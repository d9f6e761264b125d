/**
 * Text features of a prompt for the free difficulty estimator: generic properties any prompt has (its
 * length, its numbers, its operators and LaTeX, its sentences, hashed word pairs), never the simulated
 * problems' format. Cheap enough to compute on a Worker for every request.
 */
import { hashString } from "../engine/random";

/** Buckets for hashed word unigrams and bigrams. */
export const HASH_BUCKETS = 32;

export const NAMED_FEATURES = [
  "log_chars",
  "log_words",
  "sentences",
  "numbers",
  "log_max_number_digits",
  "mean_number_digits",
  "numbers_with_3plus_digits",
  "arithmetic_operators",
  "latex_commands",
  "fractions_and_roots",
  "exponents",
  "question_marks",
] as const;

export const FEATURE_COUNT = NAMED_FEATURES.length + HASH_BUCKETS;

export function featureNames(): string[] {
  return [...NAMED_FEATURES, ...Array.from({ length: HASH_BUCKETS }, (_, i) => `hash_${i}`)];
}

const NUMBER_RE = /\d+(?:[.,]\d+)*/g;
const WORD_RE = /[a-z]+/g;

/** The feature vector of a prompt (same order as `featureNames()`). */
export function promptFeatures(text: string): number[] {
  const numbers = text.match(NUMBER_RE) ?? [];
  const digits = numbers.map((n) => n.replace(/\D/g, "").length);
  const words = text.toLowerCase().match(WORD_RE) ?? [];
  const named = [
    Math.log1p(text.length),
    Math.log1p(words.length),
    (text.match(/[.!?](\s|$)/g) ?? []).length,
    numbers.length,
    Math.log1p(digits.length ? Math.max(...digits) : 0),
    digits.length ? digits.reduce((a, b) => a + b, 0) / digits.length : 0,
    digits.filter((d) => d >= 3).length,
    (text.match(/[+\-*/×÷=<>^]/g) ?? []).length,
    (text.match(/\\[a-zA-Z]+/g) ?? []).length,
    (text.match(/\\(?:d?frac|sqrt|binom)/g) ?? []).length,
    (text.match(/\^/g) ?? []).length,
    (text.match(/\?/g) ?? []).length,
  ];
  // Word unigrams and bigrams, hashed into buckets and counted: what kind of problem the words describe.
  const hashed = new Array<number>(HASH_BUCKETS).fill(0);
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    hashed[hashString(w, 0x5eed) % HASH_BUCKETS] = (hashed[hashString(w, 0x5eed) % HASH_BUCKETS] as number) + 1;
    if (i + 1 < words.length) {
      const b = hashString(`${w} ${words[i + 1]}`, 0xb16a) % HASH_BUCKETS;
      hashed[b] = (hashed[b] as number) + 1;
    }
  }
  return [...named, ...hashed];
}
