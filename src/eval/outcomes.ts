/**
 * Labelled outcomes of every candidate configuration on a seed's simulated problems, in the shape policy
 * fitting reads (`OutcomeData`): the sweep (cached when a cache directory is given) turned into per-config
 * correctness, tokens and generations per problem.
 */
import { describeSpec, type StrategySpec } from "../engine/strategies";
import type { CandidateConfig, OutcomeData } from "../policy/fit";
import { generateProblems } from "../sim/problems";
import type { World } from "../sim/world";
import { configsAt, parseStrategies } from "./grid";
import { runSweep } from "./pool";
import { EVAL_DEFAULTS } from "./run";
import type { ProblemResult } from "./sweep";

/** The candidate families calibration sweeps by default (verify-world's, plus majority-voted revisions), and adaptive best-of-N. */
export const CALIBRATION_STRATEGIES = `${EVAL_DEFAULTS.strategies},revisions-majority`;
export const CALIBRATION_EXTRA = "best-of-n-adaptive:c=95,best-of-n-adaptive:c=99";

export interface OutcomeOptions {
  problems: number;
  oracleSamples: number;
  budgets: number[];
  strategies?: string;
  extra?: string;
  threads: number;
  cacheDir?: string;
}

/** Sweep one seed's problems through every candidate and return their outcomes. */
export async function seedOutcomes(world: World, seed: number, options: OutcomeOptions): Promise<OutcomeData> {
  const strategies = parseStrategies(options.strategies ?? CALIBRATION_STRATEGIES);
  const extra = parseStrategies(options.extra ?? CALIBRATION_EXTRA).filter((e) => !strategies.some((s) => s.name === e.name));
  const specs = new Map<string, StrategySpec>();
  for (const entry of [...strategies, ...extra]) {
    for (const budget of options.budgets) {
      const grid = configsAt(entry, budget);
      if (!grid.ok) throw new Error(grid.error);
      for (const c of grid.configs) specs.set(describeSpec(c.spec), c.spec);
    }
  }
  const problems = generateProblems(world, seed, options.problems).map((r) => ({ id: r.unique_id, question: r.problem, answer: r.answer }));
  const pool = { threads: options.threads, ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}) };
  // Keys in this order: the sweep cache is keyed by the options as written, shared with calibrate and verify-world.
  const sweep = (s: typeof strategies) => ({ seed, strategies: s, budgets: options.budgets, oracleSamples: options.oracleSamples, oracleTemperature: EVAL_DEFAULTS.oracleTemperature });
  const results = await runSweep(world, problems, sweep(strategies), pool);
  if (extra.length) {
    // Same seed, same problems, same oracle samples: the extra configurations' records join each problem's.
    const more = await runSweep(world, problems, sweep(extra), pool);
    more.forEach((r, i) => (results[i] as ProblemResult).records.push(...r.records));
  }
  return outcomeData(results, problems.map((p) => p.question), options.oracleSamples, specs);
}

export function outcomeData(results: readonly ProblemResult[], prompts: string[], oracleSamples: number, specs: Map<string, StrategySpec>): OutcomeData {
  const first = results[0]?.records ?? [];
  const configs: CandidateConfig[] = first.map((r) => {
    const spec = specs.get(r.config);
    if (!spec) throw new Error(`no spec for ${r.config}`);
    return { config: r.config, spec };
  });
  const n = results.length;
  const correct = configs.map(() => new Uint8Array(n));
  const tokens = configs.map(() => new Float64Array(n));
  const generations = configs.map(() => new Float64Array(n));
  for (const r of results) {
    r.records.forEach((rec, c) => {
      (correct[c] as Uint8Array)[r.problem] = rec.correct ? 1 : 0;
      (tokens[c] as Float64Array)[r.problem] = rec.tokens;
      (generations[c] as Float64Array)[r.problem] = rec.generations;
    });
  }
  return { prompts, passAt1: results.map((r) => r.passAt1), oracleSamples, configs, correct, tokens, generations };
}

/** Several seeds' outcomes as one set of problems (the same configurations in the same order). */
export function concatOutcomes(parts: readonly OutcomeData[]): OutcomeData {
  const first = parts[0] as OutcomeData;
  return {
    prompts: parts.flatMap((p) => p.prompts),
    passAt1: parts.flatMap((p) => p.passAt1),
    oracleSamples: first.oracleSamples,
    configs: first.configs,
    correct: first.configs.map((_, c) => Uint8Array.from(parts.flatMap((p) => [...(p.correct[c] as Uint8Array)]))),
    tokens: first.configs.map((_, c) => Float64Array.from(parts.flatMap((p) => [...(p.tokens[c] as Float64Array)]))),
    generations: first.configs.map((_, c) => Float64Array.from(parts.flatMap((p) => [...(p.generations[c] as Float64Array)]))),
  };
}
