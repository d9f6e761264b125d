/** Files the evaluation reads and writes: worlds, datasets (MATH-500 shaped JSONL), and results. */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { parseWorld, type World } from "../sim/world";
import type { EvalProblem } from "./sweep";

/** A command-line input problem: reported as one line and exit code 2. */
export class InputError extends Error {}

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
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new InputError(`--dataset ${file}: no such file`);
  }
  const out: EvalProblem[] = [];
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
      throw new InputError(`--dataset ${file} line ${i + 1}: field ${issue?.path.join(".") || "(row)"}: ${issue?.message}`);
    }
    if (ids.has(r.data.unique_id)) throw new InputError(`--dataset ${file} line ${i + 1}: duplicate unique_id "${r.data.unique_id}"`);
    ids.add(r.data.unique_id);
    out.push({ id: r.data.unique_id, question: r.data.problem, answer: r.data.answer });
  });
  if (out.length === 0) throw new InputError(`--dataset ${file}: no problems`);
  return out;
}

/** Write files so that none is ever seen half-written: each goes to a temporary name, then is renamed. */
export function writeFilesAtomically(dir: string, files: Record<string, string>): void {
  mkdirSync(dir, { recursive: true });
  const staged: [string, string][] = [];
  for (const [name, content] of Object.entries(files)) {
    const tmp = join(dir, `.${name}.${process.pid}.tmp`);
    writeFileSync(tmp, content);
    staged.push([tmp, join(dir, name)]);
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
