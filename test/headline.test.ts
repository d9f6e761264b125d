/**
 * The headline statistic's pieces (src/eval/headline.ts) and the arm choice under hard caps (src/policy/fit.ts)
 * on small hand-made outcome data: over-cap runs are failures, the baseline is chosen on fit data, the paired
 * bootstrap brackets the estimate and is exact for identical sides, and a fingerprint tells models apart.
 */
import { describe, expect, it } from "vitest";
import { bestFixed, bootstrapDraws, cappedConfig, pairedDelta, perBinBound } from "../src/eval/headline";
import { StrategySpecSchema } from "../src/engine/strategies";
import { fitPolicy, type OutcomeData } from "../src/policy/fit";
import { choosePolicyArm } from "../src/policy/choose";
import { hashString } from "../src/engine/random";
import { fingerprintDifferences } from "../src/policy/fingerprint";
import { providersFingerprint, worldFingerprint } from "../src/wiring/fingerprint";
import { parseWorld } from "../src/sim/world";
import defaultWorld from "../worlds/default.json";

const bon = (n: number) => StrategySpecSchema.parse({ strategy: "best-of-n", n });

/** Two configurations on n problems: `cheap` right on the first half at cost 100; `dear` right on all at `dearCost`. */
function data(n: number, dearCost: (i: number) => number): OutcomeData {
  const idx = Array.from({ length: n }, (_, i) => i);
  return {
    prompts: idx.map((i) => `problem ${i}`),
    passAt1: idx.map((i) => (i < n / 2 ? 0.9 : 0.1)),
    oracleSamples: 16,
    configs: [
      { config: "cheap", spec: bon(1) },
      { config: "dear", spec: bon(16) },
    ],
    correct: [Uint8Array.from(idx, (i) => (i < n / 2 ? 1 : 0)), Uint8Array.from(idx, () => 1)],
    tokens: [Float64Array.from(idx, () => 100), Float64Array.from(idx, dearCost)],
    money: [Float64Array.from(idx, () => 0), Float64Array.from(idx, () => 0)],
    flops: [Float64Array.from(idx, () => 0), Float64Array.from(idx, () => 0)],
    generations: [Float64Array.from(idx, () => 1), Float64Array.from(idx, () => 16)],
  };
}

describe("headline pieces", () => {
  it("counts a run over the cap as a failure, and picks the baseline by capped accuracy", () => {
    // dear costs 900 on 30% of problems, 2000 on the rest.
    const d = data(20, (i) => (i % 10 < 3 ? 900 : 2000));
    expect([...cappedConfig(d, "tokens", 1, 1000).success].filter(Boolean).length).toBe(6);
    expect(bestFixed(d, "tokens", 1000).config).toBe("cheap"); // 50% beats 30% within the cap
    expect(bestFixed(d, "tokens", 2000).config).toBe("dear");
    expect(bestFixed(d, "tokens", 50).accuracy).toBe(0); // nothing fits: every run fails
  });

  it("paired bootstrap: exact zero for identical sides, brackets the estimate, reproducible", () => {
    const a = Uint8Array.from({ length: 200 }, (_, i) => (i % 3 === 0 ? 0 : 1));
    const b = Uint8Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? 0 : 1));
    const draws = bootstrapDraws([100, 100], 1000, 7);
    expect(pairedDelta(a, a, draws, 0.9)).toEqual({ estimate: 0, low: 0, high: 0 });
    const d = pairedDelta(a, b, draws, 0.9);
    expect(d.estimate).toBeCloseTo(100 * (133 / 200 - 100 / 200), 9);
    expect(d.low).toBeLessThan(d.estimate);
    expect(d.high).toBeGreaterThan(d.estimate);
    expect(d.low).toBeGreaterThan(0); // 17 points on 200 problems is not noise
    expect(pairedDelta(a, b, bootstrapDraws([100, 100], 1000, 7), 0.9)).toEqual(d);
    // Stratified: each draw stays within its seed's problems.
    for (const draw of draws.slice(0, 10)) {
      expect(Math.max(...draw.slice(0, 100))).toBeLessThan(100);
      expect(Math.min(...draw.slice(100))).toBeGreaterThanOrEqual(100);
    }
  });
});

describe("what choosing per difficulty could add at most (perBinBound)", () => {
  /** Configurations right on the problems `right(config, problem)` says, at cost 100; pass@1 falls with i. */
  function outcomes(n: number, configs: number, right: (c: number, i: number) => boolean): OutcomeData {
    const idx = Array.from({ length: n }, (_, i) => i);
    const cs = Array.from({ length: configs }, (_, c) => c);
    return {
      prompts: idx.map((i) => `problem ${i}`),
      passAt1: idx.map((i) => 1 - i / n),
      oracleSamples: 16,
      configs: cs.map((c) => ({ config: `c${c}`, spec: bon(c + 1) })),
      correct: cs.map((c) => Uint8Array.from(idx, (i) => (right(c, i) ? 1 : 0))),
      tokens: cs.map(() => Float64Array.from(idx, () => 100)),
      money: cs.map(() => Float64Array.from(idx, () => 0)),
      flops: cs.map(() => Float64Array.from(idx, () => 0)),
      generations: cs.map(() => Float64Array.from(idx, () => 1)),
    };
  }

  it("is zero where one configuration is best in every bin, and what the bins add where they differ", () => {
    // c1 is right wherever c0 is, and on more: no bin prefers c0.
    expect(
      perBinBound(
        outcomes(100, 2, (c, i) => i % 3 !== 0 || (c === 1 && i % 2 === 0)),
        "tokens",
        100,
      ),
    ).toBe(0);
    // c0 right on the easiest 40 (the first two quintiles), c1 on the other 60: the best single gets 60, the bins all 100.
    const split = outcomes(100, 2, (c, i) => (c === 0) === i < 40);
    expect(perBinBound(split, "tokens", 100)).toBeCloseTo(0.4, 12);
    // Over the cap nothing succeeds, so there is nothing to choose between.
    expect(perBinBound(split, "tokens", 99)).toBe(0);
  });

  it("is an upper bound: on noise it is positive although no choice can gain held out", () => {
    const noise = outcomes(500, 6, (c, i) => hashString(`${c}:${i}`) % 2 === 0);
    expect(perBinBound(noise, "tokens", 100)).toBeGreaterThan(0);
  });
});

describe("arms chosen under hard caps (fitCappedArms)", () => {
  const source = {
    kind: "calibration" as const,
    dataset: "test",
    seed: 1,
    problems: 1,
    oracleSamples: 16,
    command: "",
  };
  const options = { seed: 1, cappedArms: true, version: "t", createdAt: "", source };
  // Easy prompts are short; hard ones long and full of big numbers: the text estimator tells them apart.
  const easy = (i: number) => `What is ${i % 9} plus ${(i * 7) % 9}?`;
  const hard = (i: number) =>
    `Start with ${4000 + i}. Multiply by ${317 + (i % 50)}. Subtract ${9000 + i}. Multiply by 63. Take the remainder when divided by 97. Add 3881. What is the final number?`;
  /** Two configurations at the same cost on n problems, right where `right(config, problem)` says. */
  function twoConfigs(n: number, right: (c: number, i: number) => boolean): OutcomeData {
    const idx = Array.from({ length: n }, (_, i) => i);
    return {
      prompts: idx.map((i) => (i % 2 === 0 ? easy(i) : hard(i))),
      passAt1: idx.map((i) => (i % 2 === 0 ? 0.9 : 0.1)),
      oracleSamples: 16,
      configs: [
        { config: "a", spec: bon(4) },
        { config: "b", spec: bon(8) },
      ],
      correct: [0, 1].map((c) => Uint8Array.from(idx, (i) => (right(c, i) ? 1 : 0))),
      tokens: [0, 1].map(() => Float64Array.from(idx, () => 100)),
      money: [0, 1].map(() => Float64Array.from(idx, () => 0)),
      flops: [0, 1].map(() => Float64Array.from(idx, () => 0)),
      generations: [0, 1].map(() => Float64Array.from(idx, () => 4)),
    };
  }

  it("without evidence that bins differ, every bin takes the best fixed configuration at each cap", () => {
    // a is right on 60% of problems, b on 55%, neither tied to the text.
    const d = twoConfigs(400, (c, i) => hashString(`${c}:${i}`) % 100 < (c === 0 ? 60 : 55));
    const policy = fitPolicy(d, options);
    expect(policy.armChoice).toBe("cap");
    expect(new Set(policy.arms.map((a) => a.config))).toEqual(new Set([bestFixed(d, "tokens", 100).config]));
    expect(new Set(policy.arms.map((a) => a.bin))).toEqual(new Set([1, 2, 3, 4, 5]));
  });

  it("where cross-validation shows the bins differ, each bin takes its own, and the service's choice follows", () => {
    // a is right on the easy problems only, b on the hard ones only: the best fixed one gets half.
    const d = twoConfigs(400, (c, i) => (i % 2 === 0) === (c === 0));
    const policy = fitPolicy(d, options);
    const chosen = d.prompts.map((p) => choosePolicyArm(policy, p, 200).arm.config);
    expect(chosen.filter((c, i) => c === (i % 2 === 0 ? "a" : "b")).length).toBe(400);
  });

  it("takes the arm chosen for the largest cap within the request's cap", () => {
    const d = data(40, (i) => (i % 10 < 8 ? 800 : 5000));
    const policy = fitPolicy(d, { ...options, caps: [1000, 5000] });
    const atCap = (cap: number) => choosePolicyArm(policy, "problem 1", cap).arm.config;
    expect(atCap(1000)).toBe(bestFixed(d, "tokens", 1000).config); // cheap: dear is over 1000 on 20%
    expect(atCap(4999)).toBe(bestFixed(d, "tokens", 4999).config);
    expect(atCap(5000)).toBe("dear");
  });
});

describe("calibration fingerprint", () => {
  const w = parseWorld(defaultWorld);
  if (!w.ok) throw new Error(w.error);
  const world = w.world;
  it("matches the bundled sim world, and names what differs", () => {
    const own = worldFingerprint(world);
    expect(fingerprintDifferences(own, providersFingerprint("sim", world))).toEqual([]);
    const tweaked = worldFingerprint({ ...world, base: { ...world.base, skill: world.base.skill + 0.5 } });
    expect(fingerprintDifferences(tweaked, own)).toHaveLength(4); // every role's model is the world's
    const card = { parameters: 3e9, inputPricePerMillion: 0, outputPricePerMillion: 0, replaysRequests: false };
    const remote = { baseUrl: "http://127.0.0.1:1", timeoutMs: 1000, retries: 0, concurrency: 1 };
    const configured = providersFingerprint(
      {
        generator: { kind: "openai-completions", model: "qwen-3b", maxBatch: 8, ...card, ...remote },
        verifier: { kind: "vllm-prm", model: "prm-7b", maxBatch: 8, ...card, ...remote },
      },
      world,
    );
    const diff = fingerprintDifferences(own, configured);
    expect(diff[0]).toMatch(
      /^generator: calibrated for sim default#[0-9a-f]{8}\/base, configured openai-completions qwen-3b$/,
    );
    expect(diff.some((d) => d.startsWith("reviser:") && d.endsWith("none configured"))).toBe(true);
    expect(
      fingerprintDifferences({ generator: configured.generator, verifier: configured.verifier }, configured),
    ).toEqual([]);
  });
});
