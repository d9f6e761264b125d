/**
 * Calibration data gathered through a running service (real providers, or `npm run dev` on the simulated
 * world): every problem through every candidate configuration as an explicit-strategy sync solve, graded
 * against the gold answer with the engine's equivalence, its cost the solve's billed tokens (generator and
 * verifier); and the base model's pass@1 per problem from single-sample solves with distinct seeds. The
 * result is the same `OutcomeData` the in-process sweep gives, for the same pure `fitPolicy`.
 */
import pLimit from "p-limit";
import { hashString, mixSeeds } from "../engine/random";
import { describeSpec, generationCost, StrategySpecSchema, type StrategySpec } from "../engine/strategies";
import type { CandidateConfig, OutcomeData } from "../policy/fit";
import type { ServiceClient } from "./serviceClient";
import { configSeed, isCorrect, type EvalProblem } from "./sweep";

/**
 * The oracle's single sample: best-of-N with N = 1 by majority, so no verifier call is paid for, at the
 * in-process oracle's temperature (EVAL_DEFAULTS.oracleTemperature; not imported, to keep this module free of
 * the sweep's worker threads).
 */
export const ORACLE_SPEC: StrategySpec = StrategySpecSchema.parse({
  strategy: "best-of-n",
  n: 1,
  selection: "majority",
  temperature: 0.8,
});

export interface ServiceCalibrationOptions {
  configs: CandidateConfig[];
  oracleSamples: number;
  seed: number;
  /** Solves in flight at once. */
  concurrency: number;
  /**
   * The token budget of each candidate solve: a hard cap, so it must be large enough not to cut the
   * configuration short (solves that end with stop reason `budget` are counted and reported).
   */
  solveTokens: number;
  /** Distinguishes this run's idempotency keys (a retried request is the same solve, a new run is not). */
  runId: string;
  onProgress?: (done: number, total: number) => void;
}

export interface ServiceCalibrationResult {
  data: OutcomeData;
  solves: number;
  /** Billed tokens over every solve, oracle samples included. */
  tokens: number;
  oracleTokens: number;
  /** Candidate solves that a cap stopped (`budget`), or that failed, by configuration. */
  budgetStopped: Map<string, number>;
  failed: Map<string, number>;
}

/** The seed a configuration's solve gets on a problem: the sweep's, so best-of-N pools nest as in process. */
export function serviceSeed(seed: number, problem: number, spec: StrategySpec): number {
  return configSeed(seed, problem, spec, generationCost(spec));
}

/** The k-th oracle sample's seed on a problem (distinct per sample, unrelated to the candidates' seeds). */
export function oracleSeed(seed: number, problem: number, k: number): number {
  return mixSeeds(seed, 0x04ac1e, problem, k);
}

export async function calibrateThroughService(
  client: ServiceClient,
  problems: readonly EvalProblem[],
  options: ServiceCalibrationOptions,
): Promise<ServiceCalibrationResult> {
  const n = problems.length;
  const { configs } = options;
  const correct = configs.map(() => new Uint8Array(n));
  const tokens = configs.map(() => new Float64Array(n));
  const money = configs.map(() => new Float64Array(n));
  const flops = configs.map(() => new Float64Array(n));
  const generations = configs.map(() => new Float64Array(n));
  const oracleRight = new Uint32Array(n);
  const budgetStopped = new Map<string, number>();
  const failed = new Map<string, number>();
  const bump = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);
  let total = 0;
  let oracleTokens = 0;
  const limit = pLimit(options.concurrency);
  const jobs = n * (configs.length + options.oracleSamples);
  let done = 0;
  const finished = (): void => {
    done++;
    options.onProgress?.(done, jobs);
  };
  const idem = (...parts: (string | number)[]): string =>
    `cal-${options.runId}-${hashString(parts.join("|")).toString(16)}-${parts.join("-")}`.slice(0, 200);

  const tasks: Promise<void>[] = [];
  problems.forEach((p, i) => {
    configs.forEach((c, ci) => {
      tasks.push(
        limit(async () => {
          const body = {
            prompt: p.question,
            strategy: c.spec as unknown as Record<string, unknown>,
            budget: { generations: generationCost(c.spec), tokens: options.solveTokens },
            seed: serviceSeed(options.seed, i, c.spec),
          };
          const view = await client.solve(body, idem(i, ci, c.config));
          // The service labels the spec it ran; a different label means it read the request differently.
          if (view.strategy !== describeSpec(c.spec))
            throw new Error(`the service ran ${view.strategy} for the candidate ${c.config}`);
          (correct[ci] as Uint8Array)[i] = isCorrect(view.answer, p.answer) ? 1 : 0;
          (tokens[ci] as Float64Array)[i] = view.spend.tokens;
          (money[ci] as Float64Array)[i] = view.spend.money;
          (flops[ci] as Float64Array)[i] = view.spend.flops;
          (generations[ci] as Float64Array)[i] = view.spend.generations;
          total += view.spend.tokens;
          if (view.stopReason === "budget") bump(budgetStopped, c.config);
          if (view.stopReason === "failed") bump(failed, c.config);
          finished();
        }),
      );
    });
    for (let k = 0; k < options.oracleSamples; k++) {
      tasks.push(
        limit(async () => {
          const view = await client.solve(
            {
              prompt: p.question,
              strategy: ORACLE_SPEC as unknown as Record<string, unknown>,
              budget: { generations: 1, tokens: options.solveTokens },
              seed: oracleSeed(options.seed, i, k),
            },
            idem(i, "oracle", k),
          );
          if (isCorrect(view.answer, p.answer)) oracleRight[i] = (oracleRight[i] as number) + 1;
          total += view.spend.tokens;
          oracleTokens += view.spend.tokens;
          if (view.stopReason === "failed") bump(failed, "oracle sample");
          finished();
        }),
      );
    }
  });
  try {
    await Promise.all(tasks);
  } catch (err) {
    // One failure ends the run: nothing queued behind it starts.
    limit.clearQueue();
    throw err;
  }
  const data: OutcomeData = {
    prompts: problems.map((p) => p.question),
    passAt1: Array.from(oracleRight, (k) => k / options.oracleSamples),
    oracleSamples: options.oracleSamples,
    configs,
    correct,
    tokens,
    money,
    flops,
    generations,
  };
  return { data, solves: jobs, tokens: total, oracleTokens, budgetStopped, failed };
}
