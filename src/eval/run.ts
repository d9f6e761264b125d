/** An evaluation from inputs to output files: sweep, tables, figures, property checks. */
import type { World } from "../sim/world";
import { ratioFigure, revisionsFigure, searchFigure } from "./figures";
import { DEFAULT_STRATEGIES, type StrategyEntry } from "./grid";
import { toCsv } from "./io";
import { runSweep } from "./pool";
import { checkProperties, type PropertyCheck } from "./properties";
import { buildTables, type Tables } from "./report";
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
}

export interface Evaluation {
  tables: Tables;
  properties: PropertyCheck[];
  files: Record<string, string>;
}

export async function runEvaluation(world: World, problems: EvalProblem[], input: EvaluationInput, onProgress?: (done: number, total: number) => void): Promise<Evaluation> {
  const results = await runSweep(
    world,
    problems,
    { seed: input.seed, strategies: input.strategies, budgets: input.budgets, oracleSamples: input.oracleSamples, oracleTemperature: EVAL_DEFAULTS.oracleTemperature },
    { threads: input.threads, ...(onProgress ? { onProblemDone: onProgress } : {}) },
  );
  const tables = buildTables(results, input.budgets, input.seed);
  const properties = checkProperties(tables);
  const meta = {
    world: world.name,
    seed: input.seed,
    problems: problems.length,
    dataset: input.dataset,
    budgets: input.budgets,
    strategies: input.strategies.map((s) => s.name),
    oracleSamples: input.oracleSamples,
    oracleTemperature: EVAL_DEFAULTS.oracleTemperature,
    difficultyBins: 5,
  };
  const json = JSON.stringify({ meta, ...tables, properties }, null, 1) + "\n";
  return {
    tables,
    properties,
    files: {
      "results.json": json,
      "results.csv": toCsv(tables.rows as unknown as Record<string, unknown>[]),
      "compute-optimal.csv": toCsv(tables.computeOptimal as unknown as Record<string, unknown>[]),
      "search.svg": searchFigure(tables),
      "revisions.svg": revisionsFigure(tables),
      "revision-ratios.svg": ratioFigure(tables),
    },
  };
}
