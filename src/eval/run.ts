/**
 * An evaluation from inputs to output files: sweep, tables, figures, property checks; over one seed or
 * several (each seed its own problems and samples), with every headline figure summarised as median and
 * range over seeds.
 */
import type { World } from "../sim/world";
import { costFigure, ratioFigure, revisionsFigure, searchFigure } from "./figures";
import { DEFAULT_STRATEGIES, type StrategyEntry } from "./grid";
import { toCsv } from "./io";
import { runSweep } from "./pool";
import { checkProperties, type PropertyCheck } from "./properties";
import {
  seedMatrix,
  tablesFromMatrix,
  UNITS,
  type EfficiencyRow,
  type EfficiencyStatus,
  type SeedMatrix,
  type Tables,
  type Unit,
} from "./report";
import { median, round } from "./stats";
import type { EvalProblem } from "./sweep";

export const EVAL_DEFAULTS = {
  seed: 1,
  problems: 500,
  budgets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
  strategies: DEFAULT_STRATEGIES,
  oracleSamples: 256,
  oracleTemperature: 0.8,
};

export interface EvaluationInput {
  seed: number;
  budgets: number[];
  strategies: StrategyEntry[];
  oracleSamples: number;
  threads: number;
  /** Where the problems came from, for the record. */
  dataset: string;
  /** Where finished sweeps are kept and read back (see `runSweep`). */
  cacheDir?: string;
  /** Bootstrap resamples and permutations (smaller in tests). */
  resamples?: number;
  permutations?: number;
}

export interface Evaluation {
  tables: Tables;
  properties: PropertyCheck[];
  matrix: SeedMatrix;
  files: Record<string, string>;
}

function metaOf(
  world: World,
  problems: number,
  input: Omit<EvaluationInput, "seed">,
  seeds: number[],
): Record<string, unknown> {
  return {
    world: world.name,
    ...(seeds.length === 1 ? { seed: seeds[0] } : { seeds }),
    problems,
    dataset: input.dataset,
    budgets: input.budgets,
    strategies: input.strategies.map((s) => s.name),
    oracleSamples: input.oracleSamples,
    oracleTemperature: EVAL_DEFAULTS.oracleTemperature,
    difficultyBins: 5,
  };
}

const rowsCsv = (rows: readonly object[]): string => toCsv(rows as unknown as Record<string, unknown>[]);

function efficiencyCsv(rows: readonly EfficiencyRow[]): string {
  return rowsCsv(
    rows.map(({ interval, ...r }) => ({
      ...r,
      note: r.note ?? "",
      intervalLo: interval?.lo ?? null,
      intervalHi: interval?.hi ?? null,
    })),
  );
}

export async function runEvaluation(
  world: World,
  problems: EvalProblem[],
  input: EvaluationInput,
  onProgress?: (done: number, total: number) => void,
): Promise<Evaluation> {
  const results = await runSweep(
    world,
    problems,
    {
      seed: input.seed,
      strategies: input.strategies,
      budgets: input.budgets,
      oracleSamples: input.oracleSamples,
      oracleTemperature: EVAL_DEFAULTS.oracleTemperature,
    },
    {
      threads: input.threads,
      ...(onProgress ? { onProblemDone: onProgress } : {}),
      ...(input.cacheDir ? { cacheDir: input.cacheDir } : {}),
    },
  );
  const matrix = seedMatrix(results, input.seed);
  const tables = tablesFromMatrix(
    matrix,
    input.budgets,
    input.resamples === undefined ? {} : { resamples: input.resamples },
  );
  const properties = checkProperties([matrix], {
    ...(input.resamples !== undefined ? { resamples: input.resamples } : {}),
    ...(input.permutations !== undefined ? { permutations: input.permutations } : {}),
  });
  const json =
    JSON.stringify({ meta: metaOf(world, problems.length, input, [input.seed]), ...tables, properties }, null, 1) +
    "\n";
  return {
    tables,
    properties,
    matrix,
    files: {
      "results.json": json,
      "results.csv": rowsCsv(tables.rows),
      "compute-optimal.csv": rowsCsv(tables.computeOptimal),
      "cost-optimal.csv": rowsCsv(tables.costOptimal),
      "efficiency.csv": efficiencyCsv([...tables.efficiency, ...tables.costEfficiency]),
      "search.svg": searchFigure(tables),
      "cost.svg": costFigure(tables),
      "revisions.svg": revisionsFigure(tables),
      "revision-ratios.svg": ratioFigure(tables),
    },
  };
}

// ------------------------------------------------------------------------------------------ several seeds

/** A figure over seeds: median and range of the seeds where it is measurable. */
export interface AcrossSeeds {
  median: number | null;
  min: number | null;
  max: number | null;
  /** Seeds where it is measurable (a ratio compute-optimal never reaches counts as 0). */
  measured: number;
  values: (number | null)[];
}

export function acrossSeeds(values: readonly (number | null)[]): AcrossSeeds {
  const xs = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (xs.length === 0) return { median: null, min: null, max: null, measured: 0, values: [...values] };
  return {
    median: round(median(xs), 6),
    min: Math.min(...xs),
    max: Math.max(...xs),
    measured: xs.length,
    values: [...values],
  };
}

export interface EfficiencySummary {
  unit: Unit;
  n: number;
  ratio: AcrossSeeds;
  bestOfNAccuracy: AcrossSeeds;
  bestOfNCost: AcrossSeeds;
  matchedSpent: AcrossSeeds;
  perSeed: {
    seed: number;
    ratio: number | null;
    status: EfficiencyStatus;
    interval: { lo: number; hi: number } | null;
    note?: string;
  }[];
}

export interface Summary {
  seeds: number[];
  oracle: { bin: number; meanPassAt1: AcrossSeeds }[];
  efficiency: EfficiencySummary[];
}

export function summarise(perSeed: readonly { seed: number; tables: Tables }[]): Summary {
  const first = perSeed[0]?.tables;
  const efficiency: EfficiencySummary[] = [];
  for (const unit of UNITS) {
    const rowsOf = (t: Tables): EfficiencyRow[] =>
      (unit === "generations" ? t.efficiency : t.costEfficiency).filter((e) => e.unit === unit);
    for (const row of first ? rowsOf(first) : []) {
      const at = perSeed.map((s) => rowsOf(s.tables).find((e) => e.n === row.n));
      // A ratio never reached within the sweep is below anything measured: it counts as 0, not as missing.
      const ratio = at.map((e) => (!e || e.status === "not measurable" ? null : (e.ratio ?? 0)));
      efficiency.push({
        unit,
        n: row.n,
        ratio: acrossSeeds(ratio),
        bestOfNAccuracy: acrossSeeds(at.map((e) => e?.bestOfNAccuracy ?? null)),
        bestOfNCost: acrossSeeds(at.map((e) => e?.bestOfNCost ?? null)),
        matchedSpent: acrossSeeds(at.map((e) => e?.matchedSpent ?? null)),
        perSeed: at.map((e, i) => ({
          seed: perSeed[i]?.seed as number,
          ratio: e?.ratio ?? null,
          status: e?.status ?? "not measurable",
          interval: e?.interval ?? null,
          ...(e?.note ? { note: e.note } : {}),
        })),
      });
    }
  }
  const oracle = [1, 2, 3, 4, 5].map((bin) => ({
    bin,
    meanPassAt1: acrossSeeds(perSeed.map((s) => s.tables.oracle.find((o) => o.bin === bin)?.meanPassAt1 ?? null)),
  }));
  return { seeds: perSeed.map((s) => s.seed), oracle, efficiency };
}

export interface MultiEvaluation {
  perSeed: (Evaluation & { seed: number })[];
  summary: Summary;
  /** Checked on all seeds together. */
  properties: PropertyCheck[];
  files: Record<string, string>;
}

export interface MultiInput extends Omit<EvaluationInput, "seed"> {
  seeds: number[];
}

/**
 * Evaluate several seeds one after another (each with its own problems from `problemsFor`) and check the
 * properties on all of them. With one seed the files are the single evaluation's; with several, each
 * seed's files go under seed-<n>/ and results.json holds the summary and the pooled property checks.
 */
export async function runEvaluations(
  world: World,
  problemsFor: (seed: number) => EvalProblem[],
  input: MultiInput,
  onProgress?: (seedIndex: number, done: number, total: number) => void,
): Promise<MultiEvaluation> {
  const perSeed: (Evaluation & { seed: number })[] = [];
  let problemCount = 0;
  for (const [k, seed] of input.seeds.entries()) {
    const problems = problemsFor(seed);
    problemCount = problems.length;
    const ev = await runEvaluation(
      world,
      problems,
      { ...input, seed },
      onProgress ? (done, total) => onProgress(k, done, total) : undefined,
    );
    perSeed.push({ ...ev, seed });
  }
  const summary = summarise(perSeed);
  if (perSeed.length === 1) {
    const only = perSeed[0] as Evaluation & { seed: number };
    return { perSeed, summary, properties: only.properties, files: only.files };
  }
  const properties = checkProperties(
    perSeed.map((e) => e.matrix),
    {
      ...(input.resamples !== undefined ? { resamples: input.resamples } : {}),
      ...(input.permutations !== undefined ? { permutations: input.permutations } : {}),
    },
  );
  const files: Record<string, string> = {};
  for (const e of perSeed)
    for (const [name, content] of Object.entries(e.files)) files[`seed-${e.seed}/${name}`] = content;
  files["results.json"] =
    JSON.stringify(
      {
        meta: metaOf(world, problemCount, input, input.seeds),
        summary,
        properties,
        perSeed: perSeed.map((e) => ({
          seed: e.seed,
          oracle: e.tables.oracle,
          efficiency: e.tables.efficiency,
          costEfficiency: e.tables.costEfficiency,
          properties: e.properties.map((p) => ({ id: p.id, verdict: p.verdict, decidedBy: p.decidedBy })),
        })),
      },
      null,
      1,
    ) + "\n";
  files["efficiency.csv"] = rowsCsv(
    summary.efficiency.map((e) => ({
      unit: e.unit,
      n: e.n,
      ratioMedian: e.ratio.median,
      ratioMin: e.ratio.min,
      ratioMax: e.ratio.max,
      seedsMeasured: e.ratio.measured,
      ...Object.fromEntries(e.perSeed.map((p) => [`seed${p.seed}`, p.status === "measured" ? p.ratio : p.status])),
    })),
  );
  return { perSeed, summary, properties, files };
}
