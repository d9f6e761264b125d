/**
 * Tests that pin each strategy's decisions — which prefixes it keeps, how it ranks them, which answer it
 * selects — against scripted providers: the generator writes exactly the steps a test gives it, and the
 * PRM scores a step by the `v=` value written in it. Each test fails if its rule changes (each was checked
 * against a deliberately broken rule: reversed sort, later-beam-on-ties, no duplicate removal, ranking
 * lookahead beams by their prefix, global instead of per-subtree keeping, flat instead of hierarchical
 * selection).
 */
import { describe, expect, it } from "vitest";
import { callProviders, type ProviderSet } from "../src/engine/executeStep.js";
import {
  absorbStrategy,
  initStrategy,
  planStrategy,
  StrategySpecSchema,
  type StrategySpecInput,
  type StrategyState,
} from "../src/engine/strategies/index.js";
import type {
  GenerateRequest,
  GenerateResponse,
  ScoreRequest,
  ScoreResponse,
  SolveOutcome,
  Work,
} from "../src/engine/types.js";

const QUESTION = "What is the answer?";
const usage = { promptTokens: 1, completionTokens: 1 };

/** The score the scripted PRM gives a step: its `v=` value. */
function valueOf(step: string): number {
  const m = /v=([\d.]+)/.exec(step);
  if (!m) throw new Error(`step without a value: ${step}`);
  return Number(m[1]);
}

/**
 * A generator that answers its k-th call with `batches[k]`: for each request, the texts of its completions
 * (exactly `n` of them). Every request it saw is kept for the test to inspect.
 */
function scripted(batches: string[][][]): ProviderSet & { seen: GenerateRequest[][] } {
  const seen: GenerateRequest[][] = [];
  return {
    seen,
    async generate(_role, requests): Promise<GenerateResponse[]> {
      const batch = batches[seen.length];
      seen.push(requests);
      if (!batch) throw new Error(`unscripted generate call ${seen.length}`);
      return requests.map((r, i) => {
        const texts = batch[i] ?? [];
        if (texts.length !== r.n)
          throw new Error(`call ${seen.length} request ${i}: scripted ${texts.length} completions, asked for ${r.n}`);
        return { completions: texts.map((text) => ({ text, finishReason: "stop" as const })), usage };
      });
    },
    async score(requests: ScoreRequest[]): Promise<ScoreResponse[]> {
      return requests.map((r) => ({ scores: r.steps.map(valueOf), usage }));
    },
  };
}

/** Plan/absorb until the next generate work (or done), returning it and the state that planned it. */
async function untilGenerate(
  state: StrategyState,
  providers: ProviderSet,
): Promise<{ state: StrategyState; work: Work }> {
  for (;;) {
    const work = planStrategy(state);
    if (work.kind !== "score") return { state, work };
    state = absorbStrategy(state, await callProviders(work, providers));
  }
}

async function step(state: StrategyState, providers: ProviderSet): Promise<StrategyState> {
  const work = planStrategy(state);
  if (work.kind === "done") throw new Error("already done");
  return absorbStrategy(state, await callProviders(work, providers));
}

async function runToDone(input: StrategySpecInput, providers: ProviderSet): Promise<SolveOutcome> {
  let state = initStrategy({ question: QUESTION }, StrategySpecSchema.parse(input), 1);
  for (let i = 0; i < 50; i++) {
    const work = planStrategy(state);
    if (work.kind === "done") return work.outcome;
    state = absorbStrategy(state, await callProviders(work, providers));
  }
  throw new Error("did not finish");
}

function prefixesOf(work: Work): string[][] {
  if (work.kind !== "generate") throw new Error(`expected generate work, got ${work.kind}`);
  return work.requests.map((r) => r.prefix);
}

describe("beam search keeps the top N/M prefixes by score", () => {
  const spec = StrategySpecSchema.parse({ strategy: "beam-search", n: 4, width: 2, maxRounds: 5 });

  it("keeps the highest-scoring prefixes, the earlier one on a tie, each expanded into M children", async () => {
    const providers = scripted([[["a v=0.9", "b v=0.2", "c v=0.7", "d v=0.7"]]]);
    const state = await step(initStrategy({ question: QUESTION }, spec, 1), providers);
    const { work } = await untilGenerate(state, providers);
    expect(prefixesOf(work)).toEqual([["a v=0.9"], ["c v=0.7"]]);
    if (work.kind === "generate") expect(work.requests.map((r) => r.n)).toEqual([2, 2]);
  });

  it("keeps one of identical prefixes, so two slots never go to one path", async () => {
    const providers = scripted([[["a v=0.9", "a v=0.9", "c v=0.5", "d v=0.4"]]]);
    const state = await step(initStrategy({ question: QUESTION }, spec, 1), providers);
    const { work } = await untilGenerate(state, providers);
    expect(prefixesOf(work)).toEqual([["a v=0.9"], ["c v=0.5"]]);
  });

  it("a finished beam leaves the pool and keeps its slot: the rest share the slots left", async () => {
    // b finishes with an answer; 3 slots are left for ceil(3/2) = 2 kept prefixes with 2 + 1 children.
    const providers = scripted([[["a v=0.3", "b v=0.95 The answer is \\boxed{7}", "c v=0.6", "d v=0.1"]]]);
    const state = await step(initStrategy({ question: QUESTION }, spec, 1), providers);
    const { work } = await untilGenerate(state, providers);
    expect(prefixesOf(work)).toEqual([["c v=0.6"], ["a v=0.3"]]);
    if (work.kind === "generate") expect(work.requests.map((r) => r.n)).toEqual([2, 1]);
  });

  it("selects by best-of-N weighted over the finished beams", async () => {
    // Round 1 keeps a and b; round 2 finishes all four: answer 5 twice at 0.4 (sum 0.8) beats 6 at 0.7.
    const providers = scripted([
      [["a v=0.9", "b v=0.8", "c v=0.1", "d v=0.1"]],
      [
        ["v=0.4 \\boxed{5}", "v=0.7 \\boxed{6}"],
        ["v=0.4 \\boxed{5}", "v=0.05 \\boxed{6}"],
      ],
    ]);
    const outcome = await runToDone({ strategy: "beam-search", n: 4, width: 2 }, providers);
    expect(outcome.answer).toBe("5");
    expect(outcome.candidates.filter((c) => c.answer !== null)).toHaveLength(4);
  });
});

describe("lookahead ranks a prefix by the PRM score at the end of its rollout", () => {
  it("keeps the prefixes whose rollouts end best, and keeps the prefix without its rollout", async () => {
    const spec = StrategySpecSchema.parse({ strategy: "beam-search", n: 4, width: 2, lookahead: 1 });
    const providers = scripted([
      [["a v=0.9", "b v=0.8", "c v=0.1", "d v=0.2"]],
      // One temperature-0 rollout step per beam, in beam order: the prefixes' order is reversed at the end.
      [["x v=0.1"], ["x v=0.2"], ["x v=0.9"], ["x v=0.8"]],
    ]);
    let state = await step(initStrategy({ question: QUESTION }, spec, 1), providers);
    const rollout = planStrategy(state);
    expect(rollout.kind).toBe("generate");
    if (rollout.kind === "generate")
      for (const r of rollout.requests) expect(r).toMatchObject({ temperature: 0, n: 1 });
    state = await step(state, providers);
    const { work } = await untilGenerate(state, providers);
    expect(prefixesOf(work)).toEqual([["c v=0.1"], ["d v=0.2"]]);
  });
});

describe("DVTS keeps each subtree's single best prefix", () => {
  it("per subtree, not the global top N/M", async () => {
    const spec = StrategySpecSchema.parse({ strategy: "dvts", n: 4, width: 2 });
    // Subtree 0 samples a, b; subtree 1 samples c, d. The global top two would be c and d.
    const providers = scripted([
      [
        ["a v=0.3", "b v=0.6"],
        ["c v=0.9", "d v=0.8"],
      ],
    ]);
    const state = await step(initStrategy({ question: QUESTION }, spec, 1), providers);
    const { work } = await untilGenerate(state, providers);
    expect(prefixesOf(work)).toEqual([["b v=0.6"], ["c v=0.9"]]);
    if (work.kind === "generate") expect(work.requests.map((r) => r.n)).toEqual([2, 2]);
  });
});

describe("best-of-N selection rules", () => {
  // Answer 1 once at 0.9; answer 2 twice at 0.5 (sum 1.0); answer 3 three times at 0.1 (sum 0.3).
  const samples = [
    "v=0.9 \\boxed{1}",
    "v=0.5 \\boxed{2}",
    "v=0.1 \\boxed{3}",
    "v=0.5 \\boxed{2}",
    "v=0.1 \\boxed{3}",
    "v=0.1 \\boxed{3}",
  ];
  for (const [selection, answer] of [
    ["weighted", "2"],
    ["best", "1"],
    ["majority", "3"],
  ] as const) {
    it(`${selection} selects ${answer}`, async () => {
      const outcome = await runToDone({ strategy: "best-of-n", n: 6, selection }, scripted([[samples]]));
      expect(outcome.answer).toBe(answer);
    });
  }
});

describe("revisions select hierarchically: weighted within each chain, then across the chains' best", () => {
  // Chain 0: 5 (0.9), 6 (0.3) → 5.  Chain 1: 6 (0.4), 6 (0.4) → 6.  Chain 2: 7 (0.5), 6 (0.2) → 7.
  // Across: 5 at 0.9 wins. A flat weighted vote would pick 6 (sum 1.3); each chain's last attempt, 6 too.
  const batches = [
    [["v=0.9 \\boxed{5}", "v=0.4 \\boxed{6}", "v=0.5 \\boxed{7}"]],
    [["v=0.3 \\boxed{6}"], ["v=0.4 \\boxed{6}"], ["v=0.2 \\boxed{6}"]],
  ];

  it("verifier selection picks 5", async () => {
    const providers = scripted(batches);
    const outcome = await runToDone({ strategy: "revisions", sequential: 2, parallel: 3 }, providers);
    expect(outcome.answer).toBe("5");
    // Each revision saw its own chain's earlier attempt.
    expect(providers.seen[1]!.map((r) => r.attempts)).toEqual([
      ["v=0.9 \\boxed{5}"],
      ["v=0.4 \\boxed{6}"],
      ["v=0.5 \\boxed{7}"],
    ]);
  });

  it("majority selection pools every attempt of every chain and picks 6", async () => {
    const outcome = await runToDone(
      { strategy: "revisions", sequential: 2, parallel: 3, selection: "majority" },
      scripted(batches),
    );
    expect(outcome.answer).toBe("6");
  });
});
