import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { parseWorld, type World } from "../src/sim/world.js";
import { simModelCards, simProviders } from "../src/sim/provider.js";
import { generateProblems } from "../src/sim/problems.js";
import {
  applyStep,
  finishExecution,
  planStep,
  startExecution,
  stopExecution,
  type Execution,
} from "../src/engine/executor.js";
import { callProviders, runToEnd, type ProviderSet } from "../src/engine/executeStep.js";
import { fitWork, generationBound, MIN_COMPLETION_TOKENS, type Budget, type Ledger } from "../src/engine/budget.js";
import {
  generationCost,
  StrategySpecSchema,
  type StrategySpec,
  type StrategySpecInput,
} from "../src/engine/strategies/index.js";
import type {
  GenerateRequest,
  GenerateResponse,
  GeneratorRole,
  ScoreRequest,
  ScoreResponse,
} from "../src/engine/types.js";

function loadWorld(): World {
  const parsed = parseWorld(JSON.parse(readFileSync("worlds/default.json", "utf8")));
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.world;
}

const world = loadWorld();
const sim = simProviders(world);
const { providers, costs } = sim;
const problems = generateProblems(world, 5, 3).map((r) => ({ question: r.problem, answer: r.answer }));

function spec(input: StrategySpecInput): StrategySpec {
  return StrategySpecSchema.parse(input);
}

/** Every strategy family, at small N. */
const STRATEGIES: Record<string, StrategySpec> = {
  "best-of-n weighted": spec({ strategy: "best-of-n", n: 8, selection: "weighted" }),
  "best-of-n majority": spec({ strategy: "best-of-n", n: 8, selection: "majority" }),
  "beam search": spec({ strategy: "beam-search", n: 8, width: 2, maxRounds: 12 }),
  lookahead: spec({ strategy: "beam-search", n: 4, width: 2, lookahead: 2, maxRounds: 12 }),
  dvts: spec({ strategy: "dvts", n: 8, width: 4, maxRounds: 12 }),
  "revisions verifier": spec({ strategy: "revisions", sequential: 3, parallel: 2, selection: "verifier" }),
  "revisions majority": spec({ strategy: "revisions", sequential: 2, parallel: 3, selection: "majority" }),
};

function start(question: string, s: StrategySpec, budget: Budget = {}, seed = 1): Execution {
  const r = startExecution({ question }, s, budget, seed, costs);
  if (!r.ok) throw new Error(r.error);
  return r.execution;
}

/** Same as runToEnd, but the Execution (and the raw provider results) go through JSON between every pair of steps. */
async function runThroughJson(exec: Execution, p: ProviderSet, now = 0): Promise<{ exec: Execution; steps: number }> {
  const json = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;
  let current = json(exec);
  let steps = 0;
  while (current.status === "running") {
    const plan = planStep(current, costs, now);
    if (plan.kind === "finish") {
      current = json(finishExecution(current, plan.reason, plan.outcome, plan.detail));
      break;
    }
    const results = json(await callProviders(json(plan.work), p));
    current = json(current);
    current = json(applyStep(current, plan, results, costs).exec);
    steps += 1;
  }
  return { exec: current, steps };
}

const SPEND_KEYS = ["generations", "tokens", "money", "flops"] as const;

describe("hard caps (property)", () => {
  // Tight token limits keep worst-case bounds close to real spend, so random caps often stop a solve midway.
  const CAPPED: Record<string, StrategySpec> = {
    "best-of-n weighted": spec({ strategy: "best-of-n", n: 16, selection: "weighted", maxTokens: 64 }),
    "best-of-n majority": spec({ strategy: "best-of-n", n: 8, selection: "majority", maxTokens: 64 }),
    "beam search": spec({ strategy: "beam-search", n: 16, width: 4, maxRounds: 10, maxStepTokens: 32 }),
    lookahead: spec({ strategy: "beam-search", n: 4, width: 2, lookahead: 2, maxRounds: 10, maxStepTokens: 32 }),
    dvts: spec({ strategy: "dvts", n: 8, width: 2, maxRounds: 10, maxStepTokens: 32 }),
    "revisions verifier": spec({
      strategy: "revisions",
      sequential: 4,
      parallel: 2,
      selection: "verifier",
      maxTokens: 64,
    }),
    "revisions majority": spec({
      strategy: "revisions",
      sequential: 2,
      parallel: 3,
      selection: "majority",
      maxTokens: 64,
    }),
  };
  // Caps are drawn relative to what an uncapped solve of the same problem spends (10^-3 .. 10^1.3 times it,
  // so tiny caps of a token or less are included), or absolute for generations. Each cap is optional.
  const factor = fc.double({ min: -3, max: 1.3, noNaN: true }).map((x) => 10 ** x);
  const budgetArb = fc.record(
    {
      generations: fc.oneof(
        { arbitrary: fc.integer({ min: 1, max: 6 }), weight: 1 },
        { arbitrary: fc.integer({ min: 6, max: 40 }), weight: 4 },
      ),
      tokens: factor,
      money: factor,
      flops: factor,
    },
    { requiredKeys: [] },
  );
  const qs = problems.slice(0, 2).map((p) => p.question);

  for (const [name, s] of Object.entries(CAPPED)) {
    it(`${name}: the final ledger never exceeds a cap; the solve ends done with a stop reason and an outcome`, async () => {
      const reference: Ledger[] = [];
      for (const q of qs) reference.push((await runToEnd(start(q, s), providers, costs)).ledger);
      const seen = { complete: 0, budget: 0, midway: 0, refused: 0 };
      await fc.assert(
        fc.asyncProperty(budgetArb, fc.integer({ min: 0, max: 1000 }), async (factors, seed) => {
          for (const [i, q] of qs.entries()) {
            const ref = reference[i] as Ledger;
            const budget: Budget = {};
            if (factors.generations !== undefined) budget.generations = factors.generations;
            if (factors.tokens !== undefined) budget.tokens = Math.floor(ref.tokens * factors.tokens);
            if (factors.money !== undefined) budget.money = ref.money * factors.money;
            if (factors.flops !== undefined) budget.flops = ref.flops * factors.flops;
            const started = startExecution({ question: q }, s, budget, seed, costs);
            if (!started.ok) {
              seen.refused += 1;
              // Refused only when the strategy costs more generations than allowed, or one sample does not fit.
              if (started.field === "generations")
                expect(generationCost(s)).toBeGreaterThan(budget.generations as number);
              else expect(started.error).toMatch(/too small to buy one sample/);
              expect(budget[started.field as keyof typeof budget]).toBeDefined();
              continue;
            }
            const end = await runToEnd(started.execution, providers, costs);
            expect(end.status).toBe("done");
            expect(end.stopReason).toBeDefined();
            expect(["complete", "budget"]).toContain(end.stopReason);
            expect(end.outcome).toBeDefined();
            expect(Array.isArray(end.outcome?.candidates)).toBe(true);
            for (const k of SPEND_KEYS) {
              const cap = budget[k];
              // The engine allows 1e-12 relative slack for floating-point sums; nothing beyond it.
              if (cap !== undefined)
                expect(end.ledger[k], `${k} ${end.ledger[k]} > cap ${cap}`).toBeLessThanOrEqual(cap * (1 + 1e-12));
            }
            expect(end.ledger.generations).toBeLessThanOrEqual(generationCost(s));
            if (end.stopReason === "budget") {
              seen.budget += 1;
              if (end.ledger.calls > 0) seen.midway += 1;
              expect(end.detail).toMatch(/(generations|tokens|money|flops) cap/);
            } else {
              seen.complete += 1;
              expect(end.ledger.generations).toBe(generationCost(s));
            }
          }
        }),
        { numRuns: 30, seed: 42 },
      );
      // The budgets were varied enough to exercise every outcome (a single-step strategy cannot stop midway).
      expect(seen.budget).toBeGreaterThan(0);
      if (name !== "best-of-n majority") expect(seen.midway, JSON.stringify(seen)).toBeGreaterThan(0);
      expect(seen.complete).toBeGreaterThan(0);
    });
  }

  it("no budget at all: every strategy completes", async () => {
    for (const s of Object.values(STRATEGIES)) {
      const end = await runToEnd(start(problems[0]!.question, s), providers, costs);
      expect(end.stopReason).toBe("complete");
      expect(end.ledger.generations).toBe(generationCost(s));
    }
  });

  it("a budget that cannot buy one sample is refused up front, naming the cap and the minimum", async () => {
    for (const s of Object.values(STRATEGIES)) {
      for (const [budget, field, unit] of [
        [{ tokens: 5 }, "tokens", /at least \d+ tokens/],
        [{ money: 1e-9 }, "money", /at least \$\d/],
        [{ flops: 10 }, "flops", /at least [\d.e+]+ FLOPs/],
      ] as const) {
        const r = startExecution({ question: problems[0]!.question }, s, budget, 1, costs);
        expect(r.ok).toBe(false);
        if (r.ok) continue;
        expect(r.field).toBe(field);
        expect(r.error).toMatch(unit);
      }
    }
  });

  it("a tight budget still buys an answer: the step is shrunk to fit instead of stopping with nothing", async () => {
    // The README's problem and strategies with 1,500 tokens: every first step's worst case is larger than that,
    // so without shrinking each would stop before its first call with no answer. (Lookahead search spends its
    // budget on rollouts and may still end without a finished beam at this size.)
    const q = "Start with 48. Add 17. Multiply by 6. Subtract 129. Divide by 3. What is the final number?";
    const cap = 1500;
    for (const input of [
      { strategy: "best-of-n", n: 16 },
      { strategy: "beam-search", n: 16, width: 4 },
      { strategy: "dvts", n: 16, width: 4 },
      { strategy: "revisions", sequential: 4, parallel: 4 },
    ] as const) {
      const s = spec(input);
      const first = planStep(start(q, s), costs, 0);
      if (first.kind !== "call" || first.work.kind !== "generate") throw new Error("expected a generate step");
      expect(generationBound(first.work.requests, 0, costs).tokens).toBeGreaterThan(cap);
      const end = await runToEnd(start(q, s, { tokens: cap }), providers, costs);
      expect(end.ledger.tokens, input.strategy).toBeGreaterThan(0);
      expect(end.ledger.tokens, input.strategy).toBeLessThanOrEqual(cap);
      expect(end.stopReason, input.strategy).toBe("budget");
      expect(end.detail, input.strategy).toMatch(/tokens cap/);
      expect(end.outcome?.answer, input.strategy).not.toBeNull();
    }
  });

  it("shrinking keeps the requests that fit, then fewer samples, then one sample with max_tokens cut", () => {
    const q = problems[2]!.question;
    const exec = start(q, STRATEGIES["best-of-n weighted"]!);
    const plan = planStep(exec, costs, 0);
    if (plan.kind !== "call" || plan.work.kind !== "generate") throw new Error("expected a generate step");
    const req = plan.work.requests[0]!;
    const one = (n: number, maxTokens: number) => generationBound([{ ...req, n, maxTokens }], 0, costs).tokens;
    // Room for three whole samples and a bit: n = 3, max_tokens untouched, generations charged for 3.
    const three = fitWork(plan.work, exec.ledger, { tokens: one(3, req.maxTokens) + 5 }, costs);
    expect(three?.work).toMatchObject({
      kind: "generate",
      generations: 3,
      requests: [{ n: 3, maxTokens: req.maxTokens }],
    });
    // Room for less than one whole sample: one sample with max_tokens cut to what is left.
    const cut = fitWork(plan.work, exec.ledger, { tokens: one(1, 100) }, costs);
    expect(cut?.work).toMatchObject({ generations: 1, requests: [{ n: 1, maxTokens: 100 }] });
    // Not even MIN_COMPLETION_TOKENS: nothing fits.
    expect(fitWork(plan.work, exec.ledger, { tokens: one(1, MIN_COMPLETION_TOKENS) - 1 }, costs)).toBeNull();
  });
});

describe("determinism", () => {
  for (const [name, s] of Object.entries(STRATEGIES)) {
    it(`${name}: same problem, spec and seed give the same outcome and ledger`, async () => {
      const q = problems[1]!.question;
      const a = await runToEnd(start(q, s, {}, 7), providers, costs);
      // A fresh provider set (fresh caches) must not matter either.
      const fresh = simProviders(world);
      const b = await runToEnd(start(q, s, {}, 7), fresh.providers, fresh.costs);
      expect(b.outcome).toEqual(a.outcome);
      expect(b.ledger).toEqual(a.ledger);
      expect(b).toEqual(a);
    });
  }

  it("a different seed can give a different result", async () => {
    const s = STRATEGIES["best-of-n weighted"]!;
    const q = problems[1]!.question;
    const base = await runToEnd(start(q, s, {}, 1), providers, costs);
    let differs = false;
    for (let seed = 2; seed < 12 && !differs; seed++) {
      const other = await runToEnd(start(q, s, {}, seed), providers, costs);
      differs =
        JSON.stringify(other.outcome) !== JSON.stringify(base.outcome) ||
        JSON.stringify(other.ledger) !== JSON.stringify(base.ledger);
    }
    expect(differs).toBe(true);
  });
});

describe("JSON round-trip between steps", () => {
  for (const [name, s] of Object.entries(STRATEGIES)) {
    it(`${name}: a solve persisted as JSON between every step ends exactly like an uninterrupted one`, async () => {
      for (const p of problems) {
        const direct = await runToEnd(start(p.question, s, {}, 3), providers, costs);
        const { exec: revived, steps } = await runThroughJson(start(p.question, s, {}, 3), providers);
        expect(steps).toBe(direct.steps);
        expect(revived.outcome).toEqual(direct.outcome);
        expect(revived.ledger).toEqual(direct.ledger);
        expect(revived.stopReason).toBe(direct.stopReason);
        expect(JSON.stringify(revived)).toBe(JSON.stringify(direct));
      }
    });
  }

  it("also under a budget that stops the solve midway", async () => {
    for (const s of Object.values(STRATEGIES)) {
      const q = problems[2]!.question;
      const full = await runToEnd(start(q, s), providers, costs);
      const budget: Budget = { tokens: Math.floor(full.ledger.tokens * 0.6) };
      const direct = await runToEnd(start(q, s, budget, 1), providers, costs);
      const { exec: revived } = await runThroughJson(start(q, s, budget, 1), providers);
      expect(direct.ledger.tokens).toBeGreaterThan(0);
      expect(direct.ledger.tokens).toBeLessThanOrEqual(budget.tokens!);
      expect(JSON.stringify(revived)).toBe(JSON.stringify(direct));
    }
  });
});

describe("deadline", () => {
  it("a deadline in the past stops with reason 'deadline' before any provider call", async () => {
    for (const s of Object.values(STRATEGIES)) {
      const { providers: counted, calls } = counting(providers);
      const now = Date.now();
      const end = await runToEnd(start(problems[0]!.question, s, { deadline: now - 1000 }), counted, costs, () => now);
      expect(end.status).toBe("done");
      expect(end.stopReason).toBe("deadline");
      expect(calls.count).toBe(0);
      expect(end.ledger.tokens).toBe(0);
      expect(end.ledger.calls).toBe(0);
      expect(end.outcome).toBeDefined();
    }
  });

  it("a deadline passing mid-solve stops at the next step, keeping what was paid for", async () => {
    const s = STRATEGIES["beam search"]!;
    let clock = 0;
    const { providers: counted, calls } = counting(providers, () => (clock += 10));
    const end = await runToEnd(start(problems[0]!.question, s, { deadline: 25 }), counted, costs, () => clock);
    expect(end.stopReason).toBe("deadline");
    expect(calls.count).toBe(3);
    expect(end.steps).toBe(3);
    expect(end.ledger.calls).toBe(3);
    expect(end.outcome).toBeDefined();
  });
});

describe("startExecution", () => {
  it("refuses a spec whose generation cost exceeds budget.generations, naming both numbers", () => {
    const cases: [StrategySpec, number][] = [
      [spec({ strategy: "best-of-n", n: 16 }), 8],
      [spec({ strategy: "beam-search", n: 8, width: 2, lookahead: 2 }), 23],
      [spec({ strategy: "revisions", sequential: 4, parallel: 4 }), 15],
    ];
    for (const [s, allowed] of cases) {
      const r = startExecution({ question: problems[0]!.question }, s, { generations: allowed }, 1, costs);
      expect(r.ok).toBe(false);
      if (r.ok) continue;
      expect(r.error).toContain(String(generationCost(s)));
      expect(r.error).toContain(String(allowed));
    }
  });

  it("accepts a spec that costs exactly the budget", () => {
    const s = spec({ strategy: "beam-search", n: 8, width: 2, lookahead: 2 });
    const r = startExecution({ question: problems[0]!.question }, s, { generations: 24 }, 1, costs);
    expect(r.ok).toBe(true);
  });
});

/** A provider set that counts calls; `tick` runs before each call (to move a fake clock). */
function counting(
  inner: ProviderSet,
  tick: () => void = () => {},
): { providers: ProviderSet; calls: { count: number } } {
  const calls = { count: 0 };
  return {
    calls,
    providers: {
      async generate(role, requests) {
        calls.count += 1;
        tick();
        return inner.generate(role, requests);
      },
      async score(requests) {
        calls.count += 1;
        tick();
        return inner.score(requests);
      },
    },
  };
}

type GenFault = (out: GenerateResponse[], requests: GenerateRequest[]) => unknown;
type ScoreFault = (out: ScoreResponse[], requests: ScoreRequest[]) => unknown;

/** Wrap the sim providers, corrupting their answers (or throwing). */
function faulty(opts: { generate?: GenFault; score?: ScoreFault; generateCall?: number }): ProviderSet {
  let genCalls = 0;
  return {
    async generate(role: GeneratorRole, requests: GenerateRequest[]) {
      const out = await providers.generate(role, requests);
      genCalls += 1;
      if (!opts.generate || (opts.generateCall !== undefined && genCalls !== opts.generateCall)) return out;
      return opts.generate(out, requests) as GenerateResponse[];
    },
    async score(requests: ScoreRequest[]) {
      const out = await providers.score(requests);
      return (opts.score ? opts.score(out, requests) : out) as ScoreResponse[];
    },
  };
}

describe("provider faults", () => {
  const faults: { name: string; providers: () => ProviderSet; detail: RegExp; needsScoring?: boolean }[] = [
    {
      name: "too few completions",
      providers: () =>
        faulty({ generate: (out) => out.map((r, i) => (i === 0 ? { ...r, completions: r.completions.slice(1) } : r)) }),
      detail: /completions, expected/,
    },
    {
      name: "too many completions",
      providers: () =>
        faulty({ generate: (out) => out.map((r) => ({ ...r, completions: [...r.completions, ...r.completions] })) }),
      detail: /completions, expected/,
    },
    {
      name: "completions missing",
      providers: () => faulty({ generate: (out) => out.map((r) => ({ usage: r.usage })) }),
      detail: /no completions/,
    },
    {
      name: "a completion without text",
      providers: () =>
        faulty({
          generate: (out) =>
            out.map((r) => ({ ...r, completions: r.completions.map(() => ({ finishReason: "stop" })) })),
        }),
      detail: /without text/,
    },
    {
      name: "generation usage missing",
      providers: () => faulty({ generate: (out) => out.map((r) => ({ completions: r.completions })) }),
      detail: /usage/,
    },
    {
      name: "generation usage negative",
      providers: () =>
        faulty({ generate: (out) => out.map((r) => ({ ...r, usage: { promptTokens: -1, completionTokens: 3 } })) }),
      detail: /usage/,
    },
    {
      name: "a score array of the wrong length",
      providers: () => faulty({ score: (out) => out.map((r) => ({ ...r, scores: [...r.scores, 0.5] })) }),
      detail: /step scores, expected/,
      needsScoring: true,
    },
    {
      name: "a score array too short",
      providers: () => faulty({ score: (out) => out.map((r) => ({ ...r, scores: r.scores.slice(1) })) }),
      detail: /step scores, expected/,
      needsScoring: true,
    },
    {
      name: "a score above 1",
      providers: () =>
        faulty({ score: (out) => out.map((r, i) => (i === 0 ? { ...r, scores: r.scores.map(() => 1.5) } : r)) }),
      detail: /outside \[0, 1\]/,
      needsScoring: true,
    },
    {
      name: "a negative score",
      providers: () =>
        faulty({ score: (out) => out.map((r) => ({ ...r, scores: r.scores.map((s, j) => (j === 0 ? -0.01 : s)) })) }),
      detail: /outside \[0, 1\]/,
      needsScoring: true,
    },
    {
      name: "a NaN score",
      providers: () => faulty({ score: (out) => out.map((r) => ({ ...r, scores: r.scores.map(() => Number.NaN) })) }),
      detail: /outside \[0, 1\]/,
      needsScoring: true,
    },
    {
      name: "scoring usage missing",
      providers: () => faulty({ score: (out) => out.map((r) => ({ scores: r.scores })) }),
      detail: /usage/,
      needsScoring: true,
    },
    {
      name: "too few score responses",
      providers: () => faulty({ score: (out) => out.slice(1) }),
      detail: /expected \d+ responses, got \d+/,
      needsScoring: true,
    },
    {
      name: "generate throws",
      providers: () => ({
        ...providers,
        async generate() {
          throw new Error("upstream 503 from generator");
        },
      }),
      detail: /upstream 503 from generator/,
    },
    {
      name: "generate rejects with a non-Error",
      providers: () => ({
        ...providers,
        generate: () => Promise.reject("socket hang up"),
      }),
      detail: /socket hang up/,
    },
    {
      name: "score throws",
      providers: () => ({
        ...providers,
        async score() {
          throw new Error("PRM timed out");
        },
      }),
      detail: /PRM timed out/,
      needsScoring: true,
    },
  ];

  const scored = ["best-of-n weighted", "beam search", "lookahead", "dvts", "revisions verifier"];
  for (const f of faults) {
    it(`${f.name}: status done, stopReason failed, a detail naming the problem`, async () => {
      for (const [name, s] of Object.entries(STRATEGIES)) {
        if (f.needsScoring && !scored.includes(name)) continue;
        const end = await runToEnd(start(problems[0]!.question, s), f.providers(), costs);
        expect(end.status, name).toBe("done");
        expect(end.stopReason, name).toBe("failed");
        expect(end.detail, name).toMatch(/^provider error: /);
        expect(end.detail, name).toMatch(f.detail);
        expect(end.outcome, name).toBeDefined();
        for (const k of SPEND_KEYS) expect(Number.isFinite(end.ledger[k]), name).toBe(true);
      }
    });
  }

  it("a generate provider answering fewer responses than requests fails the solve naming the missing response", async () => {
    const s = spec({ strategy: "revisions", sequential: 2, parallel: 2 });
    const end = await runToEnd(
      start(problems[0]!.question, s),
      faulty({ generateCall: 2, generate: (out) => out.slice(0, 1) }),
      costs,
    );
    expect(end.stopReason).toBe("failed");
    expect(end.detail).toMatch(/returned 1 responses for 2 requests/);
  });

  // A provider answering with something that is not an array (an adapter passing on a JSON `null`) must fail the
  // solve with a provider error, not throw out of applyStep (a Durable Object host would retry its alarm forever).
  it("a score provider returning a non-array fails the solve instead of crashing", async () => {
    const bon = STRATEGIES["best-of-n weighted"]!;
    const end = await runToEnd(start(problems[0]!.question, bon), faulty({ score: () => undefined }), costs);
    expect(end.status).toBe("done");
    expect(end.stopReason).toBe("failed");
    expect(end.detail).toMatch(/responses/);
  });

  it("a fault on a later step keeps what was learnt: the outcome falls back to the candidates so far", async () => {
    // Best-of-N: generation succeeds, scoring fails -> majority over the unscored samples.
    const bon = STRATEGIES["best-of-n weighted"]!;
    const end = await runToEnd(
      start(problems[0]!.question, bon),
      faulty({ score: (out) => out.map((r) => ({ ...r, scores: [2] })) }),
      costs,
    );
    expect(end.stopReason).toBe("failed");
    expect(end.outcome?.candidates).toHaveLength(8);
    expect(end.outcome?.answer).not.toBeNull();
    expect(end.ledger.generations).toBe(8);
    // The rejected scoring call reported its usage: it was billed, so the ledger counts it.
    expect(end.ledger.verifierTokens).toBeGreaterThan(0);
    // Revisions: the second revision round fails -> the first attempts are still there.
    const rev = STRATEGIES["revisions verifier"]!;
    const end2 = await runToEnd(
      start(problems[0]!.question, rev),
      faulty({ generateCall: 2, generate: (out) => out.map((r) => ({ ...r, completions: [] })) }),
      costs,
    );
    expect(end2.stopReason).toBe("failed");
    expect(end2.detail).toMatch(/has 0 completions, expected 1/);
    expect(end2.outcome?.candidates).toHaveLength(2);
  });

  it("stopExecution ends a running solve with the given reason and the best answer so far", async () => {
    const s = STRATEGIES["best-of-n weighted"]!;
    const exec = start(problems[0]!.question, s);
    const stopped = stopExecution(exec, "cancelled", "user asked");
    expect(stopped).toMatchObject({ status: "done", stopReason: "cancelled", detail: "user asked" });
    expect(stopped.outcome?.answer).toBeNull();
    // A solve that is done does not take further steps.
    const again = await runToEnd(stopped, providers, costs);
    expect(again).toEqual(stopped);
  });
});

describe("ledger arithmetic", () => {
  it("after best-of-N: generatorFlops = 2·P_gen·(prompt+completion tokens); money matches the model cards' prices", async () => {
    const cards = simModelCards(world);
    for (const selection of ["weighted", "majority"] as const) {
      const s = spec({ strategy: "best-of-n", n: 8, selection });
      for (const p of problems) {
        // Record the usage the providers reported.
        const usage = { genPrompt: 0, genCompletion: 0, verifier: 0, samples: 0 };
        const recording: ProviderSet = {
          async generate(role, requests) {
            const out = await providers.generate(role, requests);
            for (const r of out) {
              usage.genPrompt += r.usage.promptTokens;
              usage.genCompletion += r.usage.completionTokens;
              usage.samples += r.completions.length;
            }
            return out;
          },
          async score(requests) {
            const out = await providers.score(requests);
            for (const r of out) usage.verifier += r.usage.promptTokens + r.usage.completionTokens;
            return out;
          },
        };
        const end = await runToEnd(start(p.question, s), recording, costs);
        const L: Ledger = end.ledger;
        expect(end.stopReason).toBe("complete");
        expect(L.generatorPromptTokens).toBe(usage.genPrompt);
        expect(L.generatorCompletionTokens).toBe(usage.genCompletion);
        expect(L.verifierTokens).toBe(usage.verifier);
        expect(L.samples).toBe(8);
        expect(L.generations).toBe(8);
        expect(L.calls).toBe(selection === "majority" ? 1 : 2);
        if (selection === "majority") expect(L.verifierTokens).toBe(0);
        else expect(L.verifierTokens).toBeGreaterThan(0);
        expect(L.tokens).toBe(L.generatorPromptTokens + L.generatorCompletionTokens + L.verifierTokens);
        expect(L.generatorFlops).toBe(
          2 * cards.generator.parameters * (L.generatorPromptTokens + L.generatorCompletionTokens),
        );
        expect(L.verifierFlops).toBe(2 * cards.verifier.parameters * L.verifierTokens);
        expect(L.flops).toBe(L.generatorFlops + L.verifierFlops);
        const money =
          (L.generatorPromptTokens * cards.generator.inputPricePerMillion +
            L.generatorCompletionTokens * cards.generator.outputPricePerMillion +
            L.verifierTokens * cards.verifier.inputPricePerMillion) /
          1e6;
        expect(L.money).toBeCloseTo(money, 15);
        expect(Math.abs(L.money - money)).toBeLessThanOrEqual(money * 1e-12);
        // The sim's cards are the default world's.
        expect(cards.generator.parameters).toBe(world.base.parameters);
        expect(cards.verifier.inputPricePerMillion).toBe(world.verifier.inputPricePerMillion);
      }
    }
  });

  it("revisions bill the reviser's card", async () => {
    const cards = simModelCards(world);
    const end = await runToEnd(start(problems[0]!.question, STRATEGIES["revisions majority"]!), providers, costs);
    const L = end.ledger;
    expect(L.generatorFlops).toBe(
      2 * cards.reviser.parameters * (L.generatorPromptTokens + L.generatorCompletionTokens),
    );
    const money =
      (L.generatorPromptTokens * cards.reviser.inputPricePerMillion +
        L.generatorCompletionTokens * cards.reviser.outputPricePerMillion) /
      1e6;
    expect(Math.abs(L.money - money)).toBeLessThanOrEqual(money * 1e-12);
    expect(L.calls).toBe(2);
  });
});
