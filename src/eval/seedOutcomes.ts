/**
 * One seed's labelled outcomes from the in-process sweep of the simulated world (through the shared sweep cache
 * when a directory is given), for scripts that need outcome data without calibrate's CLI. Node only.
 */
import type { OutcomeData } from "../policy/fit";
import { generateProblems } from "../sim/problems";
import type { World } from "../sim/world";
import { parseStrategies } from "./grid";
import { CALIBRATE_EXTRA, CALIBRATE_STRATEGIES, outcomeData, specsOf } from "./outcomes";
import { runSweep } from "./pool";
import { EVAL_DEFAULTS } from "./run";
import type { ProblemResult } from "./sweep";

export interface SeedOutcomeOptions {
  problems: number;
  oracleSamples: number;
  budgets: number[];
  threads: number;
  cacheDir?: string;
}

/**
 * Sweep one seed's simulated problems through calibrate's default candidates (in process, through the shared
 * sweep cache when a directory is given) and return their outcomes.
 */
export async function seedOutcomes(world: World, seed: number, options: SeedOutcomeOptions): Promise<OutcomeData> {
  const strategies = parseStrategies(CALIBRATE_STRATEGIES);
  const extra = (CALIBRATE_EXTRA ? parseStrategies(CALIBRATE_EXTRA) : []).filter(
    (e) => !strategies.some((s) => s.name === e.name),
  );
  const specs = specsOf([...strategies, ...extra], options.budgets);
  if (!specs.ok) throw new Error(specs.error);
  const problems = generateProblems(world, seed, options.problems).map((r) => ({
    id: r.unique_id,
    question: r.problem,
    answer: r.answer,
  }));
  const pool = { threads: options.threads, ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}) };
  // Keys in this order: the sweep cache is keyed by the options as written, shared with calibrate and verify-world.
  const sweep = (s: typeof strategies) => ({
    seed,
    strategies: s,
    budgets: options.budgets,
    oracleSamples: options.oracleSamples,
    oracleTemperature: EVAL_DEFAULTS.oracleTemperature,
  });
  const results = await runSweep(world, problems, sweep(strategies), pool);
  if (extra.length) {
    // Same seed, same problems, same oracle samples: the extra configurations' records join each problem's.
    const more = await runSweep(world, problems, sweep(extra), pool);
    more.forEach((r, i) => (results[i] as ProblemResult).records.push(...r.records));
  }
  return outcomeData(
    results,
    problems.map((p) => p.question),
    options.oracleSamples,
    specs.specs,
  );
}
