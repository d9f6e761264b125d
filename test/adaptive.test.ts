/**
 * Adaptive best-of-N: the Beta stopping rule, and a best-of-N that stops sampling when its vote is decisive
 * (spending less) and samples on to N when it is not.
 */
import { describe, expect, it } from "vitest";
import { callProviders, type ProviderSet } from "../src/engine/executeStep.js";
import {
  absorbStrategy,
  initStrategy,
  planStrategy,
  StrategySpecSchema,
  type StrategyState,
} from "../src/engine/strategies/index.js";
import { betaUpperHalf, leaderConfidence, logGamma } from "../src/engine/stopping.js";
import type {
  GenerateRequest,
  GenerateResponse,
  ScoreRequest,
  ScoreResponse,
  SolveOutcome,
} from "../src/engine/types.js";

describe("stopping rule", () => {
  it("computes log-gamma and the Beta tail", () => {
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 10);
    expect(logGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 10);
    expect(betaUpperHalf(1, 1)).toBeCloseTo(0.5, 6);
    // Beta(5, 1): P(X > 1/2) = 1 - 0.5^5.
    expect(betaUpperHalf(5, 1)).toBeCloseTo(1 - 0.5 ** 5, 5);
    for (const [a, b] of [
      [3, 7],
      [2.5, 4.25],
      [10, 9],
    ] as const)
      expect(betaUpperHalf(a, b) + betaUpperHalf(b, a)).toBeCloseTo(1, 5);
    // Very peaked posteriors too (the larger tail is never integrated directly).
    expect(betaUpperHalf(4000, 3)).toBeCloseTo(1, 9);
    expect(betaUpperHalf(3, 4000)).toBeCloseTo(0, 9);
    expect(betaUpperHalf(1, 5)).toBeCloseTo(0.5 ** 5, 5);
  });

  it("is confident when the votes agree and not when they split", () => {
    const c = (answer: string | null, score = 1) => ({ steps: ["x"], answer, stepScores: [score], score });
    expect(leaderConfidence([c("1"), c("1"), c("1"), c("1")], false)).toBeGreaterThan(0.95);
    expect(leaderConfidence([c("1"), c("2"), c("1"), c("2")], false)).toBeCloseTo(0.5, 6);
    expect(leaderConfidence([c(null), c(null)], false)).toBe(0);
    // Weighted: low scores are weak votes.
    expect(leaderConfidence([c("1", 0.1), c("1", 0.1), c("1", 0.1), c("1", 0.1)], true)).toBeLessThan(0.8);
  });
});

/** A generator that answers every sample with the next answer from a list, and a PRM that scores every step 0.9. */
function providers(answers: string[]): ProviderSet & { sampled: number; requests: GenerateRequest[] } {
  const p = {
    sampled: 0,
    requests: [] as GenerateRequest[],
    async generate(_role: unknown, requests: GenerateRequest[]): Promise<GenerateResponse[]> {
      p.requests.push(...requests);
      return requests.map((r) => ({
        completions: Array.from({ length: r.n }, () => ({
          text: `The answer is $\\boxed{${answers[p.sampled++ % answers.length]}}$.`,
          finishReason: "stop" as const,
        })),
        usage: { promptTokens: 1, completionTokens: r.n },
      }));
    },
    async score(requests: ScoreRequest[]): Promise<ScoreResponse[]> {
      return requests.map((r) => ({ scores: r.steps.map(() => 0.9), usage: { promptTokens: 1, completionTokens: 0 } }));
    },
  };
  return p as ProviderSet & { sampled: number; requests: GenerateRequest[] };
}

async function run(spec: unknown, p: ProviderSet): Promise<SolveOutcome> {
  let state: StrategyState = initStrategy({ question: "Q?" }, StrategySpecSchema.parse(spec), 7);
  for (;;) {
    const work = planStrategy(state);
    if (work.kind === "done") return work.outcome;
    state = absorbStrategy(state, await callProviders(work, p));
  }
}

describe("adaptive best-of-N", () => {
  it("stops after its first round when every sample agrees, spending a fraction of N", async () => {
    const p = providers(["7"]);
    const out = await run({ strategy: "best-of-n", n: 64, stopAt: 0.95, chunk: 4 }, p);
    expect(out.answer).toBe("7");
    expect(p.sampled).toBe(4);
  });

  it("samples on to N when the vote stays split, in doubling rounds", async () => {
    const p = providers(["1", "2"]);
    await run({ strategy: "best-of-n", n: 64, stopAt: 0.95, chunk: 4 }, p);
    expect(p.sampled).toBe(64);
    expect(p.requests.map((r) => r.n)).toEqual([4, 4, 8, 16, 32]);
    // Each round draws fresh samples: no two rounds share a seed.
    expect(new Set(p.requests.map((r) => r.seed)).size).toBe(5);
  });

  it("without stopAt samples all N at once, as before", async () => {
    const p = providers(["7"]);
    await run({ strategy: "best-of-n", n: 64 }, p);
    expect(p.requests.map((r) => r.n)).toEqual([64]);
  });

  it("adaptive majority decides without the verifier", async () => {
    const p = providers(["3"]);
    let scored = 0;
    const counting: ProviderSet = { generate: p.generate, score: async (r) => ((scored += r.length), p.score(r)) };
    const out = await run({ strategy: "best-of-n", n: 32, selection: "majority", stopAt: 0.9, chunk: 4 }, counting);
    expect(out.answer).toBe("3");
    expect(p.sampled).toBe(4);
    expect(scored).toBe(0);
  });

  it("after given candidates (a probe's samples) draws fresh samples, not the same ones again", async () => {
    const spec = StrategySpecSchema.parse({ strategy: "best-of-n", n: 8 });
    const plain = planStrategy(initStrategy({ question: "Q?" }, spec, 7));
    const given = [{ steps: ["The answer is $\\boxed{7}$."], answer: "7", stepScores: [0.9], score: 0.9 }];
    const withGiven = planStrategy(initStrategy({ question: "Q?" }, spec, 7, given));
    if (plain.kind !== "generate" || withGiven.kind !== "generate") throw new Error("expected sampling");
    expect(withGiven.requests[0]!.n).toBe(7);
    expect(withGiven.requests[0]!.seed).not.toBe(plain.requests[0]!.seed);
  });

  it("a round of empty completions (nothing to score) does not end an adaptive run early", async () => {
    let sampled = 0;
    const empty: ProviderSet = {
      async generate(_role, requests) {
        return requests.map(
          (r) => (
            (sampled += r.n),
            {
              completions: Array.from({ length: r.n }, () => ({ text: "", finishReason: "length" as const })),
              usage: { promptTokens: 1, completionTokens: 0 },
            }
          ),
        );
      },
      async score(requests) {
        return requests.map((r) => ({
          scores: r.steps.map(() => 0.5),
          usage: { promptTokens: 1, completionTokens: 0 },
        }));
      },
    };
    const out = await run({ strategy: "best-of-n", n: 16, stopAt: 0.95, chunk: 4 }, empty);
    expect(out.answer).toBeNull();
    expect(sampled).toBe(16);
  });
});
