/**
 * The evaluation's statistics on tables built by hand, so that each check is seen to fail where it must:
 * nested best-of-N pools, cost-matched cross-validation, efficiency ratios at the floor, property claims
 * tested beyond noise (paired bootstrap intervals, a permutation test that does not reject equal
 * configurations, the 4-of-5-seeds rule) and not measurable at the floor or the ceiling.
 */
import { describe, expect, it } from "vitest";
import { mixSeeds, Rng } from "../src/engine/random";
import { startExecution } from "../src/engine/executor";
import { runToEnd } from "../src/engine/executeStep";
import { generationCost, StrategySpecSchema } from "../src/engine/strategies";
import { checkProperties, type PropertyCheck } from "../src/eval/properties";
import {
  aggregate,
  costGrid,
  costMatched,
  seedMatrix,
  tablesFromMatrix,
  UNITS,
  type ConfigInfo,
  type SeedMatrix,
  type Unit,
} from "../src/eval/report";
import { percentileInterval, permutationPValue, signTailP, stratifiedResample } from "../src/eval/stats";
import { configSeed } from "../src/eval/sweep";
import { checkSimulatedDataset, gradingProblem, InputError, loadWorld, seedsArg } from "../src/eval/io";
import { simProviders } from "../src/sim/provider";
import { generateProblems } from "../src/sim/problems";
import type { ProblemResult, SolveRecord } from "../src/eval/sweep";

describe("stats helpers", () => {
  it("percentile intervals, stratified resamples, permutation p-values and the sign test", () => {
    const xs = Array.from({ length: 101 }, (_, i) => i);
    const ci = percentileInterval(xs);
    expect(ci.lo).toBeCloseTo(2.5, 9);
    expect(ci.hi).toBeCloseTo(97.5, 9);
    const strata = [[0, 1, 2], [3, 4], [5]];
    const w = stratifiedResample(strata, 6, new Rng(1));
    expect(w[0]! + w[1]! + w[2]!).toBe(3);
    expect(w[3]! + w[4]!).toBe(2);
    expect(w[5]).toBe(1);
    expect(permutationPValue(1, [0, 0, 0])).toBe(0.25);
    expect(permutationPValue(0, [0, 1, 2])).toBe(1);
    expect(signTailP(4, 5)).toBeCloseTo(6 / 32, 12);
    expect(signTailP(5, 5)).toBeCloseTo(1 / 32, 12);
  });
});

describe("input checks", () => {
  it("--seeds: a comma list of non-negative integers, duplicates dropped; anything else refused", () => {
    expect(seedsArg("--seeds", "1,2,3,4,5")).toEqual([1, 2, 3, 4, 5]);
    expect(seedsArg("--seeds", " 7, 7 ,0")).toEqual([7, 0]);
    for (const bad of ["1,,x", "-1", "x", "", "1.5", "4294967296", "1,"])
      expect(() => seedsArg("--seeds", bad), bad).toThrow(InputError);
  });

  it("a gold answer grades when a solution stating it would be graded correct", () => {
    for (const ok of ["8", "-3", "\\frac{5}{6}", "(1, 2)"]) expect(gradingProblem(ok), ok).toBeNull();
    expect(gradingProblem("")).toMatch(/normalises to nothing/);
    expect(gradingProblem("$$")).toMatch(/normalises to nothing/);
    expect(gradingProblem("x}")).toMatch(/would not be graded correct/);
  });

  it("a dataset the simulated world cannot read is refused with a count, simulated problems pass", () => {
    const row = (question: string, answer: string, line: number) => ({
      problem: { id: `r${line}`, question, answer },
      line,
    });
    const sim = row("Start with 5. Add 3. What is the final number?", "8", 1);
    expect(() => checkSimulatedDataset("f", [sim])).not.toThrow();
    expect(() => checkSimulatedDataset("f", [sim, row("What is 1+1?", "2", 2), row("Find x.", "3", 3)])).toThrow(
      /cannot read 2 of 3 rows \(first: line 2/,
    );
    expect(() =>
      checkSimulatedDataset("f", [sim, row("Start with 6. Add 3. What is the final number?", "", 2)]),
    ).toThrow(/line 2 .*normalises to nothing/);
  });
});

describe("best-of-N pools are nested", () => {
  it("the first N samples at budget 2N are the samples at N, and majority votes on the same pool; costs are the executor's", async () => {
    const world = loadWorld("worlds/default.json");
    const { providers, costs } = simProviders(world);
    const [problem] = generateProblems(world, 5, 1);
    const run = async (n: number, selection: "weighted" | "majority") => {
      const spec = StrategySpecSchema.parse({ strategy: "best-of-n", n, selection });
      const started = startExecution(
        { question: problem!.problem },
        spec,
        { generations: generationCost(spec) },
        configSeed(9, 0, spec, n),
        costs,
      );
      if (!started.ok) throw new Error(started.error);
      return runToEnd(started.execution, providers, costs);
    };
    const texts = (e: Awaited<ReturnType<typeof run>>) =>
      (e.outcome?.candidates ?? []).map((c) => c.steps.join("\n\n"));
    const [w4, w8, m8] = [await run(4, "weighted"), await run(8, "weighted"), await run(8, "majority")];
    expect(texts(w4)).toHaveLength(4);
    expect(texts(w8).slice(0, 4)).toEqual(texts(w4));
    expect(texts(m8)).toEqual(texts(w8));
    // Still charged as the executor charges: N generations, and majority pays for no verifier.
    expect(w4.ledger.generations).toBe(4);
    expect(w8.ledger.generations).toBe(8);
    expect(m8.ledger.verifierTokens).toBe(0);
    expect(w8.ledger.verifierTokens).toBeGreaterThan(0);
    // Other strategies keep a seed per configuration and budget.
    const beam16 = StrategySpecSchema.parse({ strategy: "beam-search", n: 16, width: 4 });
    const beam32 = StrategySpecSchema.parse({ strategy: "beam-search", n: 32, width: 4 });
    expect(configSeed(9, 0, beam16, 16)).not.toBe(configSeed(9, 0, beam32, 32));
  });
});

// ---------------------------------------------------------------------------- hand-built tables

interface FakeConfig {
  strategy: string;
  family?: string;
  series?: string;
  budget: number;
  /** Correct on problem i (0-based; bins are 20 problems each, bin 1 first). */
  correct: (i: number) => boolean;
  tokens?: number;
}

const PROBLEMS = 100;
const binOf = (i: number): number => Math.floor(i / 20) + 1;

/** A seed's matrix from hand-written outcomes: problem i is in bin floor(i/20)+1. */
function fakeSeed(seed: number, configs: FakeConfig[]): SeedMatrix {
  const results: ProblemResult[] = Array.from({ length: PROBLEMS }, (_, i) => ({
    problem: i,
    passAt1: 1 - i / PROBLEMS,
    records: configs.map((c): SolveRecord => ({
      problem: i,
      strategy: c.strategy,
      family: c.family ?? c.strategy,
      series: c.series ?? c.strategy,
      config: `${c.strategy}@${c.budget}${c.series ?? ""}`,
      budget: c.budget,
      correct: c.correct(i),
      answered: true,
      generations: c.budget,
      tokens: c.tokens ?? 100 * c.budget,
      verifierTokens: 0,
      flops: 1e9 * (c.tokens ?? 100 * c.budget),
      money: 1e-6 * (c.tokens ?? 100 * c.budget),
    })),
  }));
  const m = seedMatrix(results, seed);
  expect(m.bins.slice(0, 20).every((b) => b === 1)).toBe(true);
  return m;
}

/** Bernoulli outcomes with probability p, fixed by a seed and a tag: reproducible noise. */
const coin = (seed: number, tag: number, p: number) => (i: number) => new Rng(mixSeeds(seed, tag, i)).next() < p;

const byId = (checks: PropertyCheck[], id: number): PropertyCheck => checks.find((c) => c.id === id) as PropertyCheck;
const FAST = { resamples: 200, permutations: 300 };

describe("property claims can fail", () => {
  it("property 1 holds when best-of-N weighted clearly gains and majority does not, and fails on the reverse", () => {
    const good = fakeSeed(1, [
      { strategy: "best-of-n", budget: 16, correct: (i) => i < 50 },
      { strategy: "best-of-n", budget: 256, correct: (i) => i < 70 },
      { strategy: "majority", budget: 16, correct: (i) => i < 50 },
      { strategy: "majority", budget: 256, correct: (i) => i < 52 },
    ]);
    expect(byId(checkProperties([good], FAST), 1).verdict).toBe("holds");
    const bad = fakeSeed(1, [
      { strategy: "best-of-n", budget: 16, correct: (i) => i < 50 },
      { strategy: "best-of-n", budget: 256, correct: (i) => i < 52 },
      { strategy: "majority", budget: 16, correct: (i) => i < 50 },
      { strategy: "majority", budget: 256, correct: (i) => i < 70 },
    ]);
    const p = byId(checkProperties([bad], FAST), 1);
    expect(p.verdict).toBe("fails");
    expect(p.decidedBy).toMatch(/majority gains less/);
  });

  it("a small paired gain is not beyond noise on one seed; on 4 of 5 seeds it holds, on 3 of 5 it does not", () => {
    // Best-of-N at 256 differs from 16 on a few problems only, one way or the other per seed.
    const seedWith = (seed: number, up: boolean) =>
      fakeSeed(seed, [
        { strategy: "best-of-n", budget: 16, correct: (i) => i < 50 },
        { strategy: "best-of-n", budget: 256, correct: (i) => (up ? i < 51 : i < 49) },
        { strategy: "majority", budget: 16, correct: (i) => i < 50 },
        { strategy: "majority", budget: 256, correct: (i) => (up ? i < 48 : i < 45) },
      ]);
    const one = byId(checkProperties([seedWith(1, true)], FAST), 1);
    expect(one.verdict).toBe("fails"); // +1 point on 100 problems: the interval reaches 0
    const four = byId(
      checkProperties(
        [1, 2, 3, 4, 5].map((s) => seedWith(s, s !== 5)),
        FAST,
      ),
      1,
    );
    expect(four.seedsHolding).toBe(4);
    expect(four.verdict).toBe("holds");
    expect(four.decidedBy).toMatch(/4 of 5 seeds/);
    const three = byId(
      checkProperties(
        [1, 2, 3, 4, 5].map((s) => seedWith(s, s <= 3)),
        FAST,
      ),
      1,
    );
    expect(three.seedsHolding).toBe(3);
    expect(three.verdict).toBe("fails");
  });

  it("the permutation test does not reject equal configurations, and rejects a clearly better intermediate split", () => {
    const rev = (budget: number, s: number, correct: (i: number) => boolean): FakeConfig => ({
      strategy: "revisions",
      family: "revisions",
      series: `Revisions s:p=${s}:${budget / s}`,
      budget,
      correct,
    });
    const build = (mid: (s: number) => (i: number) => boolean, extreme: (s: number) => (i: number) => boolean) => {
      const configs: FakeConfig[] = [];
      for (const b of [2, 16, 32]) {
        for (let s = 1; s <= b; s *= 2)
          configs.push(rev(b, s, s === 1 || s === b ? extreme(s * 7 + b) : mid(s * 7 + b)));
      }
      return fakeSeed(3, configs);
    };
    // Every split equally good (independent coin flips at 50%), six intermediates against two extremes: over
    // 20 independent tables the test at level 0.025 rejects about never (5% would already be suspicious).
    let rejected = 0;
    for (let t = 0; t < 20; t++) {
      const equal = build(
        (s) => coin(100 + t, s, 0.5),
        (s) => coin(100 + t, s, 0.5),
      );
      const claim = byId(checkProperties([equal], { resamples: 20, permutations: 200 }), 6).claims[1]!;
      if (claim.beyondNoise) rejected++;
    }
    expect(rejected).toBeLessThanOrEqual(2);
    // The same with identical configurations: the max of copies is no evidence at all.
    const same = build(
      () => coin(4, 0, 0.5),
      () => coin(4, 0, 0.5),
    );
    expect(byId(checkProperties([same], FAST), 6).claims[1]!.pValue).toBe(1);
    // An intermediate split right on 30 more points of bins 3-4 than the extremes.
    const better = build(
      (t) => (i) => (binOf(i) >= 3 && binOf(i) <= 4 ? coin(5, t, 0.8)(i) : coin(5, t, 0.5)(i)),
      (t) => coin(5, t, 0.5),
    );
    const claimBetter = byId(checkProperties([better], FAST), 6).claims[1]!;
    expect(claimBetter.pValue).toBeLessThanOrEqual(0.025);
    expect(claimBetter.beyondNoise).toBe(true);
  });

  it("a comparison at the ceiling is not measurable, and so is property 5 with everything at the floor", () => {
    const rev = (budget: number, s: number, correct: (i: number) => boolean): FakeConfig => ({
      strategy: "revisions",
      family: "revisions",
      series: `Revisions s:p=${s}:${budget / s}`,
      budget,
      correct,
    });
    const configs: FakeConfig[] = [{ strategy: "best-of-n", budget: 1, correct: () => false }];
    for (const b of [2, 16])
      for (let s = 1; s <= b; s *= 2) configs.push(rev(b, s, (i) => binOf(i) <= 2 || (binOf(i) < 5 && i % 2 === 0)));
    const checks = checkProperties([fakeSeed(1, configs)], FAST);
    const p6 = byId(checks, 6);
    expect(p6.verdict).toBe("not measurable");
    expect(p6.decidedBy).toMatch(/ceiling/);
    const p5 = byId(checks, 5);
    expect(p5.verdict).toBe("not measurable");
    expect(p5.decidedBy).toMatch(/floor/);
    expect(p5.holds).toBeNull();
  });

  it("property 5 fails when a configuration lifts bin 5 well above a single sample on held-out problems", () => {
    const m = fakeSeed(1, [
      { strategy: "best-of-n", budget: 1, correct: (i) => binOf(i) < 5 },
      { strategy: "beam:M=4", budget: 16, correct: (i) => binOf(i) < 5 || i % 2 === 0 },
    ]);
    const p5 = byId(checkProperties([m], FAST), 5);
    expect(p5.verdict).toBe("fails");
    expect(p5.claims[0]!.estimate).toBeCloseTo(0.5, 6);
  });
});

describe("cost-matched compute-optimal and efficiency", () => {
  // Cheap (100 tokens) right on bins 1-2; dear (1000 tokens) right on bins 1-4; best-of-N at 64 costs 6400.
  const configs: FakeConfig[] = [
    { strategy: "best-of-n", budget: 1, correct: (i) => binOf(i) <= 2, tokens: 100 },
    { strategy: "beam:M=4", budget: 16, correct: (i) => binOf(i) <= 4, tokens: 1000 },
    { strategy: "best-of-n", budget: 64, correct: (i) => binOf(i) <= 4, tokens: 6400 },
  ];

  it("per bin chooses the best configuration affordable on the training fold and reports what it spent held out", () => {
    const m = fakeSeed(1, configs);
    const agg = aggregate([m]);
    const grid = costGrid(agg, "tokens");
    expect(grid[0]).toBeLessThanOrEqual(100);
    expect(grid[grid.length - 1]).toBeGreaterThanOrEqual(6400);
    // Steps of 2^(1/4).
    expect(grid[1]! / grid[0]!).toBeCloseTo(2 ** 0.25, 9);
    const points = costMatched(agg, "tokens", [100, 999, 1000]);
    expect(points[0]!.k[0]! / points[0]!.n[0]!).toBeCloseTo(0.4, 9); // only the cheap one fits
    expect(points[0]!.spent.tokens[0]).toBeCloseTo(100, 9);
    expect(points[1]!.k[0]! / points[1]!.n[0]!).toBeCloseTo(0.4, 9);
    // At 1000 the dear one is chosen on bins 3-4 only; bins 1-2 keep the cheap one (a tie goes to the cheaper).
    expect(points[2]!.k[0]! / points[2]!.n[0]!).toBeCloseTo(0.8, 9);
    expect(points[2]!.spent.tokens[0]).toBeCloseTo((40 * 100 + 40 * 1000 + 20 * 100) / 100, 9);
  });

  it("the cost ratio is best-of-N's cost over compute-optimal's held-out spend at the first budget that reaches it, not quantised to powers of two", () => {
    const t = tablesFromMatrix(fakeSeed(1, configs), [1, 16, 64], { resamples: 50 });
    const tok = t.costEfficiency.find((e) => e.unit === "tokens" && e.n === 64)!;
    expect(tok.status).toBe("measured");
    expect(tok.bestOfNCost).toBe(6400);
    // Reached first at C = 1024 (2^10, the first grid point above the dear configuration's 1000), spending 460.
    expect(tok.matchedAt).toBe(1024);
    expect(tok.matchedSpent).toBeCloseTo(460, 6);
    expect(tok.ratio).toBeCloseTo(6400 / 460, 3);
    expect(tok.interval).not.toBeNull();
    const gen = t.efficiency.find((e) => e.n === 64)!;
    expect(gen.unit).toBe("generations");
    expect(gen.ratio).toBe(4); // 64 / 16
    for (const u of ["tokens", "flops", "money"] as Unit[])
      expect(t.costOptimal.some((r) => r.unit === u && r.bin === "all")).toBe(true);
    expect(UNITS).toEqual(["generations", "tokens", "flops", "money"]);
  });

  it("an efficiency ratio from best-of-N at the floor is not measurable", () => {
    const floor = configs.map((c) => ({ ...c, correct: () => false }));
    const t = tablesFromMatrix(fakeSeed(1, floor), [1, 16, 64], { resamples: 20 });
    for (const e of [...t.efficiency, ...t.costEfficiency]) {
      expect(e.status).toBe("not measurable");
      expect(e.ratio).toBeNull();
      expect(e.note).toMatch(/floor/);
    }
    const p7 = byId(
      checkProperties([fakeSeed(1, [...floor, { strategy: "best-of-n", budget: 16, correct: () => false }])], FAST),
      7,
    );
    expect(p7.verdict).toBe("not measurable");
  });
});

// Keep the fake configurations' type honest against the real one.
const _check: Pick<ConfigInfo, "strategy" | "budget"> = { strategy: "x", budget: 1 };
void _check;
