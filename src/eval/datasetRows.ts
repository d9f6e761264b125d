/**
 * Reading a MATH-500-shaped JSONL dataset for calibration through the service, where real datasets have the
 * odd bad row: every row is checked (valid JSON, the fields, a unique id, a gold answer that can grade), and
 * each problem is reported with its line number. By default one bad row refuses the file; with
 * `skipInvalid` the bad rows are left out and reported, and the rest are used.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { gradingProblem, InputError, type DatasetRow } from "./io";

const RowSchema = z.looseObject({
  unique_id: z.string().min(1),
  problem: z.string().trim().min(1),
  answer: z.union([z.string(), z.number()]).transform(String),
});

/** A row left out, by its 1-based line number, and why. */
export interface InvalidRow {
  line: number;
  reason: string;
}

export interface ParsedDataset {
  rows: DatasetRow[];
  invalid: InvalidRow[];
}

/** Check every non-blank line of a JSONL text; pure, so that it can be tested without files. */
export function parseDatasetText(text: string): ParsedDataset {
  const rows: DatasetRow[] = [];
  const invalid: InvalidRow[] = [];
  const ids = new Set<string>();
  text.split("\n").forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === "") return;
    let data: unknown;
    try {
      data = JSON.parse(raw);
    } catch {
      invalid.push({ line, reason: "not valid JSON" });
      return;
    }
    const r = RowSchema.safeParse(data);
    if (!r.success) {
      const issue = r.error.issues[0];
      invalid.push({ line, reason: `field ${issue?.path.join(".") || "(row)"}: ${issue?.message ?? "invalid"}` });
      return;
    }
    const why = gradingProblem(r.data.answer);
    if (why) {
      invalid.push({ line, reason: `the gold answer "${r.data.answer}" ${why}` });
      return;
    }
    // A repeated id is the second row's problem: the first is kept, so results stay keyed by id.
    if (ids.has(r.data.unique_id)) {
      invalid.push({ line, reason: `duplicate unique_id "${r.data.unique_id}"` });
      return;
    }
    ids.add(r.data.unique_id);
    rows.push({ problem: { id: r.data.unique_id, question: r.data.problem, answer: r.data.answer }, line });
  });
  return { rows, invalid };
}

/** Line numbers as "3, 7, 12" (the first `max`, then how many more). */
export function describeLines(invalid: readonly InvalidRow[], max = 20): string {
  const shown = invalid
    .slice(0, max)
    .map((r) => r.line)
    .join(", ");
  return invalid.length > max ? `${shown} and ${invalid.length - max} more` : shown;
}

/**
 * Read a dataset file for calibration. Without `skipInvalid` any bad row is an InputError naming its line
 * (and how many others are bad); with it, bad rows are returned in `invalid` for the caller to report. A
 * file with too few usable rows is refused either way.
 */
export function readCalibrationDataset(
  file: string,
  options: { skipInvalid: boolean; minRows: number },
): ParsedDataset {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(
      `--dataset ${file}: ${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : `cannot read it (${code ?? (err as Error).message})`}`,
    );
  }
  const parsed = parseDatasetText(text);
  if (parsed.invalid.length > 0 && !options.skipInvalid) {
    const first = parsed.invalid[0] as InvalidRow;
    const others = parsed.invalid.length - 1;
    throw new InputError(
      `--dataset ${file} line ${first.line}: ${first.reason}${others > 0 ? ` (and ${others} more invalid row${others === 1 ? "" : "s"}: lines ${describeLines(parsed.invalid.slice(1))})` : ""}; fix it or pass --skip-invalid-rows to use the rest`,
    );
  }
  if (parsed.rows.length < options.minRows) {
    throw new InputError(
      `--dataset ${file}: ${parsed.rows.length} usable row${parsed.rows.length === 1 ? "" : "s"}${parsed.invalid.length ? ` (${parsed.invalid.length} invalid, lines ${describeLines(parsed.invalid)})` : ""}; calibration needs at least ${options.minRows} (five difficulty bins)`,
    );
  }
  return parsed;
}
