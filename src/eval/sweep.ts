/**
 * Running strategies over a dataset against the simulated world, with the same executor and strategies
 * the service uses. Work is split across worker threads by problem; results are merged in problem order,
 * so the output does not depend on how many threads ran it.
 */
import { answersEquivalent } from "../engine/answers";
import { candidateFromCompletion } from "../engine/strategies/candidates";
import { startExecution, type Execution } from "../engine/executor";
import { runToEnd } from "../engine/executeStep";
import { hashString, mixSeeds } from "../engine/random";
import { describeSpec, generationCost, type StrategySpec } from "../engine/strategies";
import { simProviders } from "../sim/provider";
import type { World } from "../sim/world";
import { configsAt, type Family, type StrategyEntry } from "./grid";

export interface EvalProblem {
  id: string;
  question: string;
  answer: string;
}

export interface SweepOptions {
  seed: number;
  strategies: StrategyEntry[];
  budgets: number[];
  /** Samples per problem for oracle pass@1 (the spec asks for at least 256). */
  oracleSamples: number;
  /** Sampling temperature for the oracle, as for best-of-N. */
  oracleTemperature: number;
}

export interface SolveRecord {
  problem: number;
  strategy: string;
  family: Family;
  series: string;
  config: string;
  budget: number;
  correct: boolean;
  answered: boolean;
  generations: number;
  tokens: number;
  verifierTokens: number;
  flops: number;
  money: number;
}

export interface ProblemResult {
  problem: number;
  passAt1: number;
  records: SolveRecord[];
}

export function isCorrect(answer: string | null, gold: string): boolean {
  return answer !== null && answersEquivalent(answer, gold);
}

/** Tag for the per-problem sample pool that best-of-N weighted and majority draw from. */
const POOL = 0x5a3b1e;

/**
 * The seed a configuration runs with on a problem. Best-of-N (weighted and majority alike) gets one seed per
 * problem whatever N: the simulated generator derives sample i from the request seed, i and the prompt, so
 * the first N samples at budget 2N are the samples at N. Their curves are then nested prefixes of one pool,
 * monotone up to selection, and weighted vs. majority is a paired comparison on the same samples. The cost
 * is still what the executor charges for each run. Every other configuration gets its own seed.
 */
export function configSeed(seed: number, problem: number, spec: StrategySpec, budget: number): number {
  if (spec.strategy === "best-of-n") return mixSeeds(seed, problem, POOL);
  return mixSeeds(seed, problem, hashString(describeSpec(spec)), budget);
}

/** Evaluate one problem: oracle pass@1, then every configuration at every budget. */
export async function evaluateProblem(
  world: World,
  problem: EvalProblem,
  index: number,
  options: SweepOptions,
): Promise<ProblemResult> {
  const { providers, costs } = simProviders(world);
  const question = { question: problem.question };
  const [oracle] = await providers.generate("generator", [
    {
      role: "generator",
      question: problem.question,
      prefix: [],
      n: options.oracleSamples,
      temperature: options.oracleTemperature,
      oneStep: false,
      maxTokens: 1024,
      seed: mixSeeds(options.seed, 0x04ac1e, index),
    },
  ]);
  let right = 0;
  for (const c of oracle?.completions ?? []) {
    if (isCorrect(candidateFromCompletion(c).answer, problem.answer)) right++;
  }
  const records: SolveRecord[] = [];
  for (const budget of options.budgets) {
    // Two entries can give the same configuration (beam M=4 and M=sqrt(N) at N=16): it is run once and
    // recorded under each, since it runs with the same seed either way.
    const solved = new Map<string, Execution>();
    for (const entry of options.strategies) {
      const grid = configsAt(entry, budget);
      if (!grid.ok) throw new Error(grid.error);
      for (const config of grid.configs) {
        const label = describeSpec(config.spec);
        let done = solved.get(label);
        if (!done) {
          const started = startExecution(
            question,
            config.spec,
            { generations: generationCost(config.spec) },
            configSeed(options.seed, index, config.spec, budget),
            costs,
          );
          if (!started.ok) throw new Error(`${label}: ${started.error}`);
          done = await runToEnd(started.execution, providers, costs);
          solved.set(label, done);
        }
        const answer = done.outcome?.answer ?? null;
        records.push({
          problem: index,
          strategy: config.strategy,
          family: config.family,
          series: config.series,
          config: label,
          budget,
          correct: isCorrect(answer, problem.answer),
          answered: answer !== null,
          generations: done.ledger.generations,
          tokens: done.ledger.tokens,
          verifierTokens: done.ledger.verifierTokens,
          flops: done.ledger.flops,
          money: done.ledger.money,
        });
      }
    }
  }
  return { problem: index, passAt1: right / Math.max(1, options.oracleSamples), records };
}
