/**
 * Measuring `auto` through a running service: each problem solved with no strategy under a token cap,
 * graded against its gold answer, the outcome reported back as feedback, and the figures (accuracy with a
 * 95% interval, mean tokens and generations, the exploration share) set against the in-process figure of the
 * same policy on the same problems at the same cap.
 */
import type { Budget } from "../engine/budget";
import pLimit from "p-limit";
import { mixSeeds } from "../engine/random";
import { startExecution } from "../engine/executor";
import { runToEnd } from "../engine/executeStep";
import { describeSpec, type StrategySpec } from "../engine/strategies";
import { simProviders } from "../sim/provider";
import type { World } from "../sim/world";
import type { PolicyDocument } from "../policy/document";
import type { ServiceClient } from "./serviceClient";
import { wilson } from "./stats";
import { isCorrect, type EvalProblem } from "./sweep";

/** One auto solve through the service. */
export interface AutoRecord {
  problem: number;
  correct: boolean;
  /** What the service's feedback route graded the answer as, given the gold answer (a cross-check). */
  serviceCorrect: boolean | null;
  tokens: number;
  money: number;
  flops: number;
  generations: number;
  exploration: boolean;
  config: string;
  bin: number;
  stopReason: string | undefined;
  policyVersion: string;
}

export interface AutoRunOptions {
  /** A token cap, or a budget in any of the API's units (a policy in dollars is capped in dollars). */
  cap: number | { tokens?: number; money?: number; flops?: number };
  concurrency: number;
  /** The seed each problem's solve gets; null lets the service draw one. */
  seedOf: (problem: number) => number | null;
  feedback: boolean;
  onProgress?: () => void;
}

/** Auto solves of every problem within `cap`, with feedback `{answer: gold}` for each. */
export async function runAutoThroughService(
  client: ServiceClient,
  problems: readonly EvalProblem[],
  options: AutoRunOptions,
): Promise<AutoRecord[]> {
  const limit = pLimit(options.concurrency);
  const out: AutoRecord[] = new Array(problems.length);
  try {
    await Promise.all(
      problems.map((p, i) =>
        limit(async () => {
          const seed = options.seedOf(i);
          const view = await client.solve({
            prompt: p.question,
            strategy: { strategy: "auto" },
            budget: typeof options.cap === "number" ? { tokens: options.cap } : options.cap,
            ...(seed === null ? {} : { seed }),
          });
          if (!view.policy) throw new Error(`the service's auto solve ${view.id} carries no policy decision`);
          // A probing policy decides after its probe; a finished solve that never got past it has no arm to measure.
          if (view.policy.state !== "decided")
            throw new Error(
              `the service's auto solve ${view.id} ended while probing (${view.stopReason ?? "no stop reason"})`,
            );
          const correct = isCorrect(view.answer, p.answer);
          // The gold answer goes back as feedback: the service grades it itself, which checks that both sides grade alike.
          const fb = options.feedback ? await client.feedback(view.id, { answer: p.answer }) : null;
          out[i] = {
            problem: i,
            correct,
            serviceCorrect: fb ? fb.correct : null,
            tokens: view.spend.tokens,
            money: view.spend.money,
            flops: view.spend.flops,
            generations: view.spend.generations,
            exploration: view.policy.exploration,
            config: view.policy.config,
            bin: view.policy.bin,
            stopReason: view.stopReason,
            policyVersion: view.policy.policyVersion,
          };
          options.onProgress?.();
        }),
      ),
    );
  } catch (err) {
    limit.clearQueue();
    throw err;
  }
  return out;
}

/** Explicit solves of one strategy on every problem (the best-of-N baseline through the service). */
export async function runFixedThroughService(
  client: ServiceClient,
  problems: readonly EvalProblem[],
  spec: StrategySpec,
  budget: Record<string, number>,
  options: { concurrency: number; seedOf: (problem: number) => number; onProgress?: () => void },
): Promise<{ correct: boolean; tokens: number; generations: number; stopReason: string | undefined }[]> {
  const limit = pLimit(options.concurrency);
  try {
    return await Promise.all(
      problems.map((p, i) =>
        limit(async () => {
          const view = await client.solve({
            prompt: p.question,
            strategy: spec as unknown as Record<string, unknown>,
            budget,
            seed: options.seedOf(i),
          });
          options.onProgress?.();
          return {
            correct: isCorrect(view.answer, p.answer),
            tokens: view.spend.tokens,
            generations: view.spend.generations,
            stopReason: view.stopReason,
          };
        }),
      ),
    );
  } catch (err) {
    limit.clearQueue();
    throw err;
  }
}

/** A seed per problem and cap that no in-process sweep uses (independent samples). */
export function independentSeed(seed: number, cap: number, problem: number): number {
  return mixSeeds(seed, 0x5e41ce, cap, problem);
}

export interface Figures {
  count: number;
  correct: number;
  accuracy: number;
  lo: number;
  hi: number;
  meanTokens: number;
  /** 95% interval of the mean tokens (normal approximation over problems). */
  tokensLo: number;
  tokensHi: number;
  meanGenerations: number;
}

const Z = 1.959963984540054;

export function figuresOf(
  rows: readonly { correct: boolean | number; tokens: number; generations: number }[],
): Figures {
  const n = rows.length;
  const k = rows.reduce((t, r) => t + (r.correct ? 1 : 0), 0);
  const mt = rows.reduce((t, r) => t + r.tokens, 0) / Math.max(1, n);
  const sd = Math.sqrt(rows.reduce((t, r) => t + (r.tokens - mt) ** 2, 0) / Math.max(1, n - 1));
  const half = n > 1 ? (Z * sd) / Math.sqrt(n) : 0;
  const { lo, hi } = wilson(k, n);
  return {
    count: n,
    correct: k,
    accuracy: n ? k / n : 0,
    lo,
    hi,
    meanTokens: mt,
    tokensLo: mt - half,
    tokensHi: mt + half,
    meanGenerations: rows.reduce((t, r) => t + r.generations, 0) / Math.max(1, n),
  };
}

/**
 * The mean of paired per-problem differences a − b with its 95% interval (normal approximation); `agree`
 * when the interval contains 0.
 */
export function pairedDifference(
  a: readonly number[],
  b: readonly number[],
): { mean: number; lo: number; hi: number; agree: boolean } {
  if (a.length !== b.length) throw new Error("paired differences need the same problems on both sides");
  const n = a.length;
  const d = a.map((x, i) => x - (b[i] as number));
  const m = d.reduce((t, x) => t + x, 0) / Math.max(1, n);
  const sd = Math.sqrt(d.reduce((t, x) => t + (x - m) ** 2, 0) / Math.max(1, n - 1));
  const half = n > 1 ? (Z * sd) / Math.sqrt(n) : 0;
  return { mean: m, lo: m - half, hi: m + half, agree: m - half <= 0 && 0 <= m + half };
}

/** The seeds a policy was calibrated on, from its recorded command (else its source seed): not held out. */
export function calibrationSeeds(policy: Pick<PolicyDocument, "source">): number[] {
  const m = /--seeds\s+([\d,]+)/.exec(policy.source.command);
  return m ? (m[1] as string).split(",").filter(Boolean).map(Number) : [policy.source.seed];
}

/**
 * The policy's choices run in process as the service runs them: with the request's token cap as a hard cap
 * (the executor shrinks a step whose worst case does not fit), which `policyCurve` does not model (it takes
 * each configuration's uncapped outcome). Seeds are the caller's, typically the sweep's for the chosen
 * configuration, so that the capped and uncapped outcomes are paired on the same samples.
 */
export async function runCappedInProcess(
  world: World,
  problems: readonly EvalProblem[],
  cap: number | Budget,
  choose: (problem: number) => StrategySpec,
  seedOf: (problem: number, spec: StrategySpec) => number,
): Promise<{ correct: boolean; tokens: number; money: number; flops: number; generations: number; cut: boolean }[]> {
  const { providers, costs } = simProviders(world);
  // A number is a token cap; a budget may cap dollars or FLOPs instead (a policy in those units).
  const budget: Budget = typeof cap === "number" ? { tokens: cap } : cap;
  const out: { correct: boolean; tokens: number; money: number; flops: number; generations: number; cut: boolean }[] =
    [];
  for (const [i, p] of problems.entries()) {
    const spec = choose(i);
    const started = startExecution({ question: p.question }, spec, budget, seedOf(i, spec), costs);
    if (!started.ok) throw new Error(`${describeSpec(spec)} within ${JSON.stringify(budget)}: ${started.error}`);
    const done = await runToEnd(started.execution, providers, costs);
    out.push({
      correct: isCorrect(done.outcome?.answer ?? null, p.answer),
      tokens: done.ledger.tokens,
      money: done.ledger.money,
      flops: done.ledger.flops,
      generations: done.ledger.generations,
      cut: done.stopReason === "budget",
    });
  }
  return out;
}
