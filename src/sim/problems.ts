/**
 * Procedurally generated multi-step arithmetic problems (sim-world.md §2). Everything the simulated
 * models know about a problem they read back from its text with `parseProblem`; nothing else is passed.
 */
import { hashString, Rng, unitFromHash } from "../engine/random";
import type { World } from "./world";

export type OpKind = "add" | "subtract" | "multiply" | "divide" | "square" | "remainder";

export interface Operation {
  kind: OpKind;
  /** Operand (absent for square). */
  operand: number;
}

export interface ParsedProblem {
  question: string;
  start: number;
  ops: Operation[];
  /** Value after each operation; the last is the answer. */
  values: number[];
  /** Hardness of each operation, from its operands. */
  hardness: number[];
  /** Per-problem factor in [-1, 1], a hash of the text: the same text is always equally hard. */
  factor: number;
  answer: number;
}

/** A problem row in the MATH-500 shape, plus optional fields. */
export interface DatasetRow {
  unique_id: string;
  problem: string;
  answer: string;
  level?: number;
  subject?: string;
}

const SENTENCES: Record<OpKind, (b: number) => string> = {
  add: (b) => `Add ${b}.`,
  subtract: (b) => `Subtract ${b}.`,
  multiply: (b) => `Multiply by ${b}.`,
  divide: (b) => `Divide by ${b}.`,
  square: () => "Square it.",
  remainder: (b) => `Take the remainder when divided by ${b}.`,
};

export const QUESTION_TAIL = "What is the final number?";

export function apply(kind: OpKind, a: number, b: number): number {
  switch (kind) {
    case "add":
      return a + b;
    case "subtract":
      return a - b;
    case "multiply":
      return a * b;
    case "divide":
      return a / b;
    case "square":
      return a * a;
    case "remainder":
      return ((a % b) + b) % b;
  }
}

function digits(x: number): number {
  return String(Math.abs(Math.trunc(x))).length;
}

/** How error-prone an operation is, from the size of its operands (3-digit multiplications are hard). */
export function stepHardness(kind: OpKind, a: number, b: number): number {
  const da = digits(a);
  const db = digits(b);
  switch (kind) {
    case "add":
    case "subtract":
      return 0.3 + 0.25 * Math.max(da, db) + (a < 0 || (kind === "subtract" && b > a) ? 0.3 : 0);
    case "multiply":
      return 0.4 + 0.35 * da * db;
    case "divide":
      return 0.5 + 0.3 * da;
    case "square":
      return 0.4 + 0.5 * da * da * 0.5;
    case "remainder":
      return 0.8 + 0.2 * da;
  }
}

const cache = new Map<string, ParsedProblem | null>();

/** Read a problem back from its text; null when the text is not one of ours. */
export function parseProblem(question: string): ParsedProblem | null {
  const hit = cache.get(question);
  if (hit !== undefined) return hit;
  const parsed = parseUncached(question);
  if (cache.size > 4096) cache.clear();
  cache.set(question, parsed);
  return parsed;
}

function parseUncached(question: string): ParsedProblem | null {
  const text = question.trim();
  const m = /^Start with (-?\d+)\.\s*(.*?)\s*What is the final number\?$/s.exec(text);
  if (!m) return null;
  const start = Number(m[1]);
  const ops: Operation[] = [];
  for (const sentence of (m[2] ?? "").split(/(?<=\.)\s+/)) {
    if (sentence.length === 0) continue;
    let r: RegExpExecArray | null;
    if ((r = /^Add (\d+)\.$/.exec(sentence))) ops.push({ kind: "add", operand: Number(r[1]) });
    else if ((r = /^Subtract (\d+)\.$/.exec(sentence))) ops.push({ kind: "subtract", operand: Number(r[1]) });
    else if ((r = /^Multiply by (\d+)\.$/.exec(sentence))) ops.push({ kind: "multiply", operand: Number(r[1]) });
    else if ((r = /^Divide by (\d+)\.$/.exec(sentence))) ops.push({ kind: "divide", operand: Number(r[1]) });
    else if (sentence === "Square it.") ops.push({ kind: "square", operand: 0 });
    else if ((r = /^Take the remainder when divided by (\d+)\.$/.exec(sentence)))
      ops.push({ kind: "remainder", operand: Number(r[1]) });
    else return null;
  }
  if (ops.length === 0) return null;
  const values: number[] = [];
  const hardness: number[] = [];
  let v = start;
  for (const op of ops) {
    if ((op.kind === "divide" || op.kind === "remainder") && op.operand === 0) return null;
    hardness.push(stepHardness(op.kind, v, op.operand));
    v = apply(op.kind, v, op.operand);
    if (!Number.isSafeInteger(v)) return null;
    values.push(v);
  }
  const factor = unitFromHash(hashString(text, 0x51ed)) * 2 - 1;
  return { question: text, start, ops, values, hardness, factor, answer: v };
}

/** Generate `count` problems deterministically from a seed; unique texts. */
export function generateProblems(world: World, seed: number, count: number): DatasetRow[] {
  const rng = new Rng(seed ^ 0x9e3779b9);
  const rows: DatasetRow[] = [];
  const seen = new Set<string>();
  let guard = 0;
  while (rows.length < count && guard++ < count * 50) {
    const question = makeQuestion(world, rng);
    if (seen.has(question)) continue;
    const parsed = parseProblem(question);
    if (!parsed) continue;
    seen.add(question);
    rows.push({
      unique_id: `sim/${seed}/${rows.length}`,
      problem: question,
      answer: String(parsed.answer),
      level: parsed.ops.length,
      subject: "Arithmetic",
    });
  }
  return rows;
}

function makeQuestion(world: World, rng: Rng): string {
  const { minOps, maxOps, bigMultiplierRate, maxValue } = world.problems;
  const n = rng.int(minOps, maxOps);
  let v = rng.int(2, 99);
  const parts = [`Start with ${v}.`];
  for (let i = 0; i < n; i++) {
    const op = chooseOp(v, rng, bigMultiplierRate, maxValue);
    parts.push(SENTENCES[op.kind](op.operand));
    v = apply(op.kind, v, op.operand);
  }
  parts.push(QUESTION_TAIL);
  return parts.join(" ");
}

function chooseOp(v: number, rng: Rng, bigRate: number, maxValue: number): Operation {
  for (let attempt = 0; attempt < 20; attempt++) {
    const kind = rng.pick<OpKind>([
      "add",
      "add",
      "subtract",
      "subtract",
      "multiply",
      "multiply",
      "divide",
      "square",
      "remainder",
    ]);
    let b = 0;
    switch (kind) {
      case "add":
      case "subtract":
        b = rng.chance(0.5) ? rng.int(2, 99) : rng.int(100, 999);
        break;
      case "multiply":
        b = rng.chance(bigRate) ? (rng.chance(0.6) ? rng.int(11, 99) : rng.int(101, 999)) : rng.int(2, 9);
        break;
      case "divide": {
        const divisors: number[] = [];
        for (let d = 2; d <= 25; d++) if (v % d === 0) divisors.push(d);
        if (divisors.length === 0 || Math.abs(v) < 4) continue;
        b = rng.pick(divisors);
        break;
      }
      case "square":
        if (Math.abs(v) > 99 || Math.abs(v) < 2) continue;
        break;
      case "remainder":
        if (Math.abs(v) < 20) continue;
        b = rng.int(3, 13);
        break;
    }
    const next = apply(kind, v, b);
    if (Math.abs(next) > maxValue || !Number.isSafeInteger(next)) continue;
    return { kind, operand: b };
  }
  return { kind: "add", operand: rng.int(2, 99) };
}
