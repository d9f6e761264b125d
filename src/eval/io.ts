/** Files the evaluation reads and writes: worlds, datasets (MATH-500 shaped JSONL), and results. */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { answersEquivalent, extractAnswer, normalizeAnswer } from "../engine/answers";
import { parseProblem } from "../sim/problems";
import { parseWorld, type World } from "../sim/world";
import type { EvalProblem } from "./sweep";

/** A command-line input problem: reported as one line and exit code 2 (scripts/cli.ts). */
export class InputError extends Error {}

/** An integer option: the fallback when it is absent, else a whole number of at least `min`. */
export function intArg(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min)
    throw new InputError(`--${name} must be an integer >= ${min}, got "${value}"`);
  return Number(value);
}

export const DEFAULT_WORLD_FILE = join(dirname(fileURLToPath(import.meta.url)), "../../worlds/default.json");

export function loadWorld(file: string = DEFAULT_WORLD_FILE): World {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    const why = err instanceof SyntaxError ? ` (${err.message.replace(/\s+/g, " ")})` : "";
    throw new InputError(`--world ${file}: ${existsSync(file) ? `not valid JSON${why}` : "no such file"}`);
  }
  const r = parseWorld(data);
  if (!r.ok) throw new InputError(`--world ${file}: ${r.error}`);
  return r.world;
}

const DatasetRowSchema = z.looseObject({
  unique_id: z.string().min(1),
  problem: z.string().min(1),
  answer: z.union([z.string(), z.number()]).transform(String),
});

/** Read a JSONL dataset in the MATH-500 shape ({"unique_id", "problem", "answer"} plus anything else). */
export function loadDataset(file: string): EvalProblem[] {
  return loadDatasetRows(file).map((r) => r.problem);
}

export interface DatasetRow {
  problem: EvalProblem;
  line: number;
}

/** Read a JSONL dataset, keeping each problem's line number for messages. */
export function loadDatasetRows(file: string): DatasetRow[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new InputError(`--dataset ${file}: no such file`);
  }
  const out: DatasetRow[] = [];
  const ids = new Set<string>();
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    let data: unknown;
    try {
      data = JSON.parse(line);
    } catch {
      throw new InputError(`--dataset ${file} line ${i + 1}: not valid JSON`);
    }
    const r = DatasetRowSchema.safeParse(data);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw new InputError(
        `--dataset ${file} line ${i + 1}: field ${issue?.path.join(".") || "(row)"}: ${issue?.message}`,
      );
    }
    if (ids.has(r.data.unique_id))
      throw new InputError(`--dataset ${file} line ${i + 1}: duplicate unique_id "${r.data.unique_id}"`);
    ids.add(r.data.unique_id);
    out.push({ problem: { id: r.data.unique_id, question: r.data.problem, answer: r.data.answer }, line: i + 1 });
  });
  if (out.length === 0) throw new InputError(`--dataset ${file}: no problems`);
  return out;
}

/**
 * Why a gold answer cannot grade anything, or null: it normalises to nothing, is not equivalent to itself,
 * or a solution stating it in a box would not be graded correct (unbalanced braces, say).
 */
export function gradingProblem(gold: string): string | null {
  if (normalizeAnswer(gold).trim() === "") return "normalises to nothing";
  if (!answersEquivalent(gold, gold)) return "is not equivalent to itself";
  const stated = extractAnswer(`The answer is $\\boxed{${gold}}$.`);
  if (stated === null || !answersEquivalent(stated, gold))
    return `would not be graded correct when a solution states it (\\boxed{${gold}} reads as ${stated === null ? "no answer" : `"${stated}"`})`;
  return null;
}

/**
 * The simulated world reads only its own generated problems: a dataset it cannot read would be scored 0 by
 * every strategy and say nothing. Refuse it, and any row whose gold answer cannot grade.
 */
export function checkSimulatedDataset(file: string, rows: readonly DatasetRow[]): void {
  const unreadable = rows.filter((r) => parseProblem(r.problem.question) === null);
  if (unreadable.length > 0) {
    const first = unreadable[0] as DatasetRow;
    throw new InputError(
      `--dataset ${file}: the simulated world reads only its own generated problems and cannot read ${unreadable.length} of ${rows.length} rows (first: line ${first.line}, "${first.problem.id}"); evaluate real problems against real providers through the service (docs/operations.md)`,
    );
  }
  for (const r of rows) {
    const why = gradingProblem(r.problem.answer);
    if (why)
      throw new InputError(
        `--dataset ${file} line ${r.line} ("${r.problem.id}"): the gold answer "${r.problem.answer}" ${why}, so no answer could be graded against it`,
      );
  }
}

/**
 * Write files so that none is ever seen half-written: each goes to a temporary name beside it, then is
 * renamed. Names may contain subdirectories (seed-3/results.json).
 */
export function writeFilesAtomically(dir: string, files: Record<string, string>): void {
  mkdirSync(dir, { recursive: true });
  const staged: [string, string][] = [];
  for (const [name, content] of Object.entries(files)) {
    const final = join(dir, name);
    mkdirSync(dirname(final), { recursive: true });
    const tmp = join(dirname(final), `.${basename(final)}.${process.pid}.tmp`);
    writeFileSync(tmp, content);
    staged.push([tmp, final]);
  }
  for (const [tmp, final] of staged) renameSync(tmp, final);
}

export function toCsv(rows: readonly Record<string, unknown>[]): string {
  if (rows.length === 0) return "";
  const cols = Object.keys(rows[0] as object);
  const cell = (v: unknown): string => {
    const s = v === null || v === undefined ? "" : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [cols.join(","), ...rows.map((r) => cols.map((c) => cell(r[c])).join(","))].join("\n") + "\n";
}

/** A list of seeds such as "1,2,3,4,5": non-negative integers below 2^32; duplicates are dropped. */
export function seedsArg(flag: string, value: string): number[] {
  const out: number[] = [];
  const parts = value.split(",").map((s) => s.trim());
  for (const part of parts) {
    if (part === "")
      throw new InputError(`${flag} "${value}": an empty entry (seeds are non-negative integers separated by commas)`);
    if (!/^\d+$/.test(part) || Number(part) > 0xffffffff)
      throw new InputError(`${flag} "${value}": "${part}" is not a seed (a non-negative integer below 2^32)`);
    if (!out.includes(Number(part))) out.push(Number(part));
  }
  return out;
}
