/**
 * The strategies an evaluation sweeps (method.md §4–§5, §7), written as a list such as
 * `best-of-n,majority,beam:M=4,beam:M=sqrt,lookahead:k=1,lookahead:k=3,dvts:M=4,revisions`. The families
 * and their parameters come from the strategy registry; each gives the configurations that spend exactly a
 * budget B in the paper's generation units.
 */
import { GRID_FAMILIES, StrategySpecSchema, type StrategySpec } from "../engine/strategies";
import type { GridFamily, GridValues } from "../engine/strategies/definition";

/** A family's name, e.g. `beam` or `revisions-majority`. */
export type Family = string;

export interface StrategyEntry {
  family: Family;
  values: GridValues;
  /** Canonical name, e.g. `lookahead:k=1;M=4`, also the series label's key. */
  name: string;
  label: string;
}

export const DEFAULT_STRATEGIES =
  "best-of-n,majority,beam:M=4,beam:M=sqrt,lookahead:k=1,lookahead:k=3,dvts:M=4,revisions";

function familyOf(name: string): GridFamily | undefined {
  return GRID_FAMILIES.find((f) => f.name === name);
}

function aliasOf(raw: string): { family: GridFamily; values: GridValues } | undefined {
  for (const family of GRID_FAMILIES) {
    const values = family.aliases?.[raw];
    if (values) return { family, values };
  }
  return undefined;
}

function parseValue(raw: string, family: GridFamily, key: string, v: string): number | "sqrt" {
  const param = family.params[key];
  if (!param) throw new Error(`strategy "${raw}": unknown parameter "${key}" for ${family.name}`);
  if (v === "sqrt" && param.sqrt) return "sqrt";
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < param.min || n > param.max) {
    throw new Error(
      `strategy "${raw}": ${key} must be an integer from ${param.min} to ${param.max}${param.sqrt ? " or sqrt" : ""}`,
    );
  }
  return n;
}

function canonicalName(family: GridFamily, values: GridValues): string {
  const keys = Object.keys(family.params);
  return keys.length === 0 ? family.name : `${family.name}:${keys.map((k) => `${k}=${values[k]}`).join(";")}`;
}

/** Parse a strategy list; throws an Error whose message names the bad entry. */
export function parseStrategies(list: string): StrategyEntry[] {
  const out: StrategyEntry[] = [];
  const seen = new Set<string>();
  for (const raw of list
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    let family: GridFamily | undefined;
    const values: GridValues = {};
    const alias = aliasOf(raw);
    if (alias) {
      family = alias.family;
      Object.assign(values, alias.values);
    } else {
      const [head, ...rest] = raw.split(":");
      family = familyOf(head ?? "");
      if (!family) throw new Error(`unknown strategy "${raw}" (known: ${GRID_FAMILIES.map((f) => f.name).join(", ")})`);
      for (const kv of rest.join(":").split(";").filter(Boolean)) {
        const [k, v] = kv.split("=");
        if (!k || v === undefined) throw new Error(`strategy "${raw}": parameter "${kv}" is not key=value`);
        values[k] = parseValue(raw, family, k, v);
      }
    }
    for (const [k, p] of Object.entries(family.params)) values[k] ??= p.default;
    const name = canonicalName(family, values);
    if (seen.has(name)) continue;
    seen.add(name);
    out.push({ family: family.name, values, name, label: family.label(values) });
  }
  if (out.length === 0) throw new Error("no strategies given");
  return out;
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
  const family = familyOf(entry.family);
  if (!family) return { ok: false, error: `unknown strategy family "${entry.family}"` };
  const grid = family.configs(entry.values, budget);
  if (!grid.ok) return grid;
  const configs: GridConfig[] = [];
  for (const c of grid.configs) {
    const r = StrategySpecSchema.safeParse(c.spec);
    if (!r.success)
      return { ok: false, error: `${entry.name} at budget ${budget}: ${r.error.issues[0]?.message ?? "invalid"}` };
    configs.push({ strategy: entry.name, family: entry.family, series: c.series, spec: r.data });
  }
  return { ok: true, configs };
}
