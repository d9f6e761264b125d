/**
 * The strategies an evaluation sweeps (method.md §4–§5, §7), written as a list such as
 * `best-of-n,majority,beam:M=4,beam:M=sqrt,lookahead:k=1,lookahead:k=3,dvts:M=4,revisions`.
 * Each entry gives the configurations that spend exactly a budget B in the paper's generation units.
 */
import { StrategySpecSchema, type StrategySpec, type StrategySpecInput } from "../engine/strategies/spec";

export type Family = "best-of-n" | "majority" | "beam" | "lookahead" | "dvts" | "revisions" | "revisions-majority";

export interface StrategyEntry {
  family: Family;
  /** Beam width M, or "sqrt" for M = √N (square budgets only). */
  width?: number | "sqrt";
  /** Lookahead depth k. */
  lookahead?: number;
  /** Canonical name, also the series label's key. */
  name: string;
  label: string;
}

export const DEFAULT_STRATEGIES = "best-of-n,majority,beam:M=4,beam:M=sqrt,lookahead:k=1,lookahead:k=3,dvts:M=4,revisions";

const ALIASES: Record<string, string> = {
  "beam-m4": "beam:M=4",
  "beam-sqrt": "beam:M=sqrt",
  "beam-search": "beam:M=4",
  "lookahead-1": "lookahead:k=1",
  "lookahead-3": "lookahead:k=3",
  bon: "best-of-n",
};

const FAMILY_NAMES: Family[] = ["best-of-n", "majority", "beam", "lookahead", "dvts", "revisions", "revisions-majority"];

/** Parse a strategy list; throws an Error whose message names the bad entry. */
export function parseStrategies(list: string): StrategyEntry[] {
  const out: StrategyEntry[] = [];
  const seen = new Set<string>();
  for (const raw of list.split(",").map((s) => s.trim()).filter(Boolean)) {
    const text = ALIASES[raw] ?? raw;
    const [head, ...rest] = text.split(":");
    const family = head as Family;
    if (!FAMILY_NAMES.includes(family)) throw new Error(`unknown strategy "${raw}" (known: ${FAMILY_NAMES.join(", ")})`);
    const params = new Map<string, string>();
    for (const kv of rest.join(":").split(";").filter(Boolean)) {
      const [k, v] = kv.split("=");
      if (!k || v === undefined) throw new Error(`strategy "${raw}": parameter "${kv}" is not key=value`);
      params.set(k, v);
    }
    const entry: StrategyEntry = { family, name: "", label: "" };
    for (const [k, v] of params) {
      if (k === "M" && (family === "beam" || family === "lookahead" || family === "dvts")) {
        if (v === "sqrt" && family !== "dvts") entry.width = "sqrt";
        else if (/^\d+$/.test(v) && Number(v) >= 1) entry.width = Number(v);
        else throw new Error(`strategy "${raw}": M must be a positive integer${family === "dvts" ? "" : " or sqrt"}`);
      } else if (k === "k" && family === "lookahead") {
        if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 16) throw new Error(`strategy "${raw}": k must be an integer from 1 to 16`);
        entry.lookahead = Number(v);
      } else throw new Error(`strategy "${raw}": unknown parameter "${k}" for ${family}`);
    }
    if (family === "beam" || family === "dvts" || family === "lookahead") entry.width ??= 4;
    if (family === "lookahead") entry.lookahead ??= 1;
    entry.name = canonicalName(entry);
    entry.label = labelOf(entry);
    if (seen.has(entry.name)) continue;
    seen.add(entry.name);
    out.push(entry);
  }
  if (out.length === 0) throw new Error("no strategies given");
  return out;
}

function canonicalName(e: StrategyEntry): string {
  switch (e.family) {
    case "beam":
    case "dvts":
      return `${e.family}:M=${e.width}`;
    case "lookahead":
      return `lookahead:k=${e.lookahead};M=${e.width}`;
    default:
      return e.family;
  }
}

function labelOf(e: StrategyEntry): string {
  switch (e.family) {
    case "best-of-n":
      return "Best-of-N weighted";
    case "majority":
      return "Majority";
    case "beam":
      return `Beam search M=${e.width === "sqrt" ? "sqrt(N)" : e.width}`;
    case "lookahead":
      return `Lookahead k=${e.lookahead} M=${e.width}`;
    case "dvts":
      return `DVTS M=${e.width}`;
    case "revisions":
      return "Revisions (verifier)";
    case "revisions-majority":
      return "Revisions (majority)";
  }
}

/** One configuration at a budget, with the series it belongs to in plots and tables. */
export interface GridConfig {
  strategy: string;
  family: Family;
  series: string;
  spec: StrategySpec;
}

export type GridAt = { ok: true; configs: GridConfig[] } | { ok: false; error: string };

/**
 * The configurations of an entry that spend exactly `budget`. A budget too small for the entry (fewer
 * beams than M) gives none, as in the paper's plots; a budget the parameters cannot divide is an error.
 */
export function configsAt(entry: StrategyEntry, budget: number): GridAt {
  const base = { strategy: entry.name, family: entry.family, series: entry.label };
  const one = (input: StrategySpecInput): GridAt => {
    const r = StrategySpecSchema.safeParse(input);
    if (!r.success) return { ok: false, error: `${entry.name} at budget ${budget}: ${r.error.issues[0]?.message ?? "invalid"}` };
    return { ok: true, configs: [{ ...base, spec: r.data }] };
  };
  const none: GridAt = { ok: true, configs: [] };
  switch (entry.family) {
    case "best-of-n":
      return one({ strategy: "best-of-n", n: budget, selection: "weighted" });
    case "majority":
      return one({ strategy: "best-of-n", n: budget, selection: "majority" });
    case "beam":
    case "dvts": {
      let m: number;
      if (entry.width === "sqrt") {
        m = Math.round(Math.sqrt(budget));
        if (m < 2 || m * m !== budget) return none;
      } else m = entry.width ?? 4;
      if (budget < m) return none;
      if (budget % m !== 0) return { ok: false, error: `${entry.name} cannot spend budget ${budget}: N must be divisible by M=${m}` };
      return one({ strategy: entry.family === "beam" ? "beam-search" : "dvts", n: budget, width: m });
    }
    case "lookahead": {
      const k = entry.lookahead ?? 1;
      const n = budget / (k + 1);
      let m: number;
      if (entry.width === "sqrt") {
        m = Math.round(Math.sqrt(n));
        if (!Number.isInteger(n) || m < 2 || m * m !== n) return none;
      } else m = entry.width ?? 4;
      if (budget < m * (k + 1)) return none;
      if (!Number.isInteger(n) || n % m !== 0) {
        return { ok: false, error: `${entry.name} cannot spend budget ${budget}: it costs N(k+1) with N divisible by M=${m}` };
      }
      return one({ strategy: "beam-search", n, width: m, lookahead: k });
    }
    case "revisions":
    case "revisions-majority": {
      // The paper's grid of sequential:parallel splits, s·p = B, from fully parallel to fully sequential.
      const configs: GridConfig[] = [];
      const splits = new Set<number>();
      for (let s = 1; s <= budget; s *= 2) if (budget % s === 0) splits.add(s);
      splits.add(budget);
      for (const s of [...splits].sort((a, b) => a - b)) {
        const p = budget / s;
        const r = StrategySpecSchema.safeParse({ strategy: "revisions", sequential: s, parallel: p, selection: entry.family === "revisions" ? "verifier" : "majority" });
        if (!r.success) return { ok: false, error: `${entry.name} at budget ${budget}: ${r.error.issues[0]?.message}` };
        configs.push({ ...base, series: `${entry.label} s:p=${s}:${p}`, spec: r.data });
      }
      return { ok: true, configs };
    }
  }
}
