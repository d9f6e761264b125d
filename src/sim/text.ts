/**
 * The simulated models' writing: how a step is phrased, and how a step is read back. Phrasings vary
 * (sampling picks among them) so that correct solutions are not all one string.
 */
import type { OpKind } from "./problems";

type Phrase = (a: number, b: number, r: number) => string;

const OP_PHRASES: Record<OpKind, Phrase[]> = {
  add: [
    (a, b, r) => `Add ${b}: ${a} + ${b} = ${r}.`,
    (a, b, r) => `Adding ${b} to ${a} gives ${r}.`,
    (a, b, r) => `${a} + ${b} = ${r}.`,
    (a, b, r) => `We add ${b}, so the value is ${a} + ${b} = ${r}.`,
  ],
  subtract: [
    (a, b, r) => `Subtract ${b}: ${a} - ${b} = ${r}.`,
    (a, b, r) => `Subtracting ${b} from ${a} gives ${r}.`,
    (a, b, r) => `${a} - ${b} = ${r}.`,
    (a, b, r) => `We take away ${b}, so the value is ${a} - ${b} = ${r}.`,
  ],
  multiply: [
    (a, b, r) => `Multiply by ${b}: ${a} \\times ${b} = ${r}.`,
    (a, b, r) => `Multiplying ${a} by ${b} gives ${r}.`,
    (a, b, r) => `${a} \\times ${b} = ${r}.`,
    (a, b, r) => `We multiply by ${b}, so the value is ${a} \\times ${b} = ${r}.`,
  ],
  divide: [
    (a, b, r) => `Divide by ${b}: ${a} / ${b} = ${r}.`,
    (a, b, r) => `Dividing ${a} by ${b} gives ${r}.`,
    (a, b, r) => `${a} / ${b} = ${r}.`,
    (a, b, r) => `We divide by ${b}, so the value is ${a} / ${b} = ${r}.`,
  ],
  square: [
    (a, _b, r) => `Square it: ${a} \\times ${a} = ${r}.`,
    (a, _b, r) => `Squaring ${a} gives ${r}.`,
    (a, _b, r) => `${a}^2 = ${r}.`,
    (a, _b, r) => `We square the value: ${a} \\times ${a} = ${r}.`,
  ],
  remainder: [
    (a, b, r) => `Take the remainder mod ${b}: ${a} mod ${b} = ${r}.`,
    (a, b, r) => `The remainder of ${a} divided by ${b} is ${r}.`,
    (a, b, r) => `${a} mod ${b} = ${r}.`,
    (a, b, r) => `We reduce mod ${b}, so the value is ${a} mod ${b} = ${r}.`,
  ],
};

const FINAL_PHRASES: ((r: number) => string)[] = [
  (r) => `The final answer is $\\boxed{${r}}$.`,
  (r) => `So the final number is $\\boxed{${r}}$.`,
  (r) => `Therefore, the answer is $\\boxed{${r}}$.`,
];

const CHECK_PHRASES: ((v: number) => string)[] = [
  (v) => `Checking again: the value is still ${v}.`,
  (v) => `Let me double-check: the value is still ${v}.`,
  (v) => `Verifying once more, the value is still ${v}.`,
];

/** Preference of each sentence template at temperature 1 (the first is the model's most likely wording). */
const TEMPLATE_WEIGHTS = [4, 2, 1, 1];

/**
 * Openers a step may start with, and their preference: real samples at temperature 0.8 differ in wording
 * after a step or two, so identical prefixes (which step-wise search merges) are as rare as they are there.
 * None contains a digit or "is still", so reading a step back is unchanged.
 */
const OPENERS = ["", "Next, ", "Then ", "Now ", "So ", "After that, ", "Continuing, ", "In the next step, "];
const OPENER_WEIGHTS = [6, 3, 2, 2, 1.5, 1, 1, 1];

/** Wordings a step can take: a template and an opener, numbered template-first (0 to 3 are the bare templates). */
export const PHRASE_COUNT = TEMPLATE_WEIGHTS.length * OPENERS.length;

const weightCache = new Map<string, number[]>();

export function phraseWeights(count: number, temperature: number): number[] {
  const key = `${count}:${temperature}`;
  const hit = weightCache.get(key);
  if (hit) return hit;
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const w =
      (TEMPLATE_WEIGHTS[i % TEMPLATE_WEIGHTS.length] as number) *
      (OPENER_WEIGHTS[Math.floor(i / TEMPLATE_WEIGHTS.length) % OPENERS.length] as number);
    out.push(Math.pow(w, 1 / Math.max(temperature, 1e-3)));
  }
  if (weightCache.size > 64) weightCache.clear();
  weightCache.set(key, out);
  return out;
}

export function writeOpStep(kind: OpKind, a: number, b: number, r: number, phrase: number): string {
  const list = OP_PHRASES[kind];
  const text = (list[phrase % list.length] as Phrase)(a, b, r);
  const opener = OPENERS[Math.floor(phrase / TEMPLATE_WEIGHTS.length) % OPENERS.length] as string;
  return opener === "" ? text : opener + text.charAt(0).toLowerCase() + text.slice(1);
}

export function writeFinalStep(r: number, phrase: number): string {
  return (FINAL_PHRASES[phrase % FINAL_PHRASES.length] as (r: number) => string)(r);
}

export function writeCheckStep(v: number, phrase: number): string {
  return (CHECK_PHRASES[phrase % CHECK_PHRASES.length] as (v: number) => string)(v);
}

export type ReadStep =
  | { kind: "op"; value: number }
  | { kind: "check"; value: number | null }
  | { kind: "final"; value: number | null }
  | { kind: "other" };

const NUMBER = /-?\d+/g;

function lastNumber(text: string): number | null {
  const all = text.match(NUMBER);
  if (!all || all.length === 0) return null;
  return Number(all[all.length - 1]);
}

const readCache = new Map<string, ReadStep>();

/** Read a step back as a model would: a final answer, a checking step, or an operation with its result. */
export function readStep(step: string): ReadStep {
  // The same steps are read again and again (every prefix the PRM scores, every attempt a reviser rereads).
  const hit = readCache.get(step);
  if (hit) return hit;
  const read = readUncached(step);
  if (readCache.size > 50_000) readCache.clear();
  readCache.set(step, read);
  return read;
}

function readUncached(step: string): ReadStep {
  const boxed = step.indexOf("\\boxed{");
  if (boxed >= 0) {
    const m = /\\boxed\{\s*(-?\d+)\s*\}/.exec(step);
    return { kind: "final", value: m ? Number(m[1]) : null };
  }
  if (step.includes("is still")) return { kind: "check", value: lastNumber(step) };
  const v = lastNumber(step);
  return v === null ? { kind: "other" } : { kind: "op", value: v };
}
