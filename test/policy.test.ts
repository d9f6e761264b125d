/**
 * The compute-optimal policy's pure parts: text features, the ridge estimator, fitting arms per bin and
 * cost budget, the policy document's validation, and choosing an arm within a cap.
 */
import { describe, expect, it } from "vitest";
import { StrategySpecSchema } from "../src/engine/strategies";
import { binOf, fitRidge, passLogit, predictFeatures } from "../src/policy/estimator";
import { FEATURE_COUNT, featureNames, promptFeatures } from "../src/policy/features";
import { choosePolicyArm } from "../src/policy/choose";
import { parsePolicy, type PolicyDocument } from "../src/policy/document";
import { fitArms, fitPolicy, policyCurve, type OutcomeData } from "../src/policy/fit";
import { Rng } from "../src/engine/random";

describe("prompt features", () => {
  it("are generic: any prompt gives a finite vector of the documented length", () => {
    for (const text of [
      "",
      "What is 2+2?",
      "Let $f(x) = \\frac{x^2}{\\sqrt{3}}$. Find $f(12{,}345)$.",
      "Start with 48. Add 17. What is the final number?",
      "x".repeat(10_000),
    ]) {
      const f = promptFeatures(text);
      expect(f).toHaveLength(FEATURE_COUNT);
      expect(featureNames()).toHaveLength(FEATURE_COUNT);
      for (const v of f) expect(Number.isFinite(v)).toBe(true);
    }
  });

  it("see numbers, operators and LaTeX", () => {
    const names = featureNames();
    const f = promptFeatures("Compute $\\frac{123}{4} + 5^2$.");
    expect(f[names.indexOf("numbers")]).toBe(4);
    expect(f[names.indexOf("numbers_with_3plus_digits")]).toBe(1);
    expect(f[names.indexOf("fractions_and_roots")]).toBe(1);
    expect(f[names.indexOf("exponents")]).toBe(1);
  });
});

describe("ridge estimator", () => {
  it("recovers a linear relation from noisy data and predicts held-out points", () => {
    const rng = new Rng(5);
    const X: number[][] = [];
    const y: number[] = [];
    for (let i = 0; i < 300; i++) {
      const x = [rng.next() * 10, rng.next() * 4, rng.next()];
      X.push(x);
      y.push(2 * x[0]! - 3 * x[1]! + 0 * x[2]! + 1 + (rng.next() - 0.5) * 0.1);
    }
    const { model } = fitRidge(X, y, 1);
    expect(predictFeatures(model, [5, 2, 0.5])).toBeCloseTo(2 * 5 - 3 * 2 + 1, 0);
    expect(predictFeatures(model, [1, 3, 0.1])).toBeCloseTo(2 - 9 + 1, 0);
  });

  it("refuses too few labelled problems", () => {
    expect(() => fitRidge([[1], [2]], [1, 2], 1)).toThrow(/at least 4/);
  });

  it("maps pass@1 to a finite logit and logits to bins, easiest first", () => {
    expect(Number.isFinite(passLogit(0, 256))).toBe(true);
    expect(Number.isFinite(passLogit(1, 256))).toBe(true);
    expect(passLogit(0.9, 256)).toBeGreaterThan(passLogit(0.1, 256));
    const t = [-2, -1, 0, 1];
    expect(binOf(5, t)).toBe(1);
    expect(binOf(0.5, t)).toBe(2);
    expect(binOf(-1.5, t)).toBe(4);
    expect(binOf(-9, t)).toBe(5);
  });
});

// Synthetic outcomes: three configurations of rising cost; "cheap" is right on easy problems only, "dear" on most.
const spec = (n: number) => StrategySpecSchema.parse({ strategy: "best-of-n", n });
function synthetic(n: number): OutcomeData {
  const prompts: string[] = [];
  const passAt1: number[] = [];
  const configs = [
    { config: "cheap", spec: spec(1) },
    { config: "mid", spec: spec(4) },
    { config: "dear", spec: spec(16) },
  ];
  const correct = configs.map(() => new Uint8Array(n));
  const tokens = configs.map(() => new Float64Array(n));
  const generations = configs.map(() => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    // Harder problems have more numbers in them (a generic feature the estimator can learn).
    const hard = i % 5;
    prompts.push(`Question ${Array.from({ length: hard + 1 }, (_, k) => 10 ** (k + 1)).join(" and ")}?`);
    passAt1.push(1 - hard / 5);
    correct[0]![i] = hard <= 1 ? 1 : 0;
    correct[1]![i] = hard <= 2 ? 1 : 0;
    correct[2]![i] = hard <= 3 ? 1 : 0;
    tokens[0]![i] = 100;
    tokens[1]![i] = 400;
    tokens[2]![i] = 1600;
    generations[0]![i] = 1;
    generations[1]![i] = 4;
    generations[2]![i] = 16;
  }
  // Dollars and FLOPs in proportion to tokens (one model): the unit does not change the choice.
  return {
    prompts,
    passAt1,
    oracleSamples: 256,
    configs,
    correct,
    tokens,
    money: tokens.map((t) => t.map((x) => x * 2e-7)),
    flops: tokens.map((t) => t.map((x) => x * 6e9)),
    generations,
  };
}

describe("fitting arms and policies", () => {
  const data = synthetic(200);
  const bins = data.passAt1.map((p) => Math.round((1 - p) * 5) + 1);

  it("per bin, takes the most accurate configuration affordable at each budget, the cheaper on a tie", () => {
    const arms = fitArms(data, bins);
    const of = (bin: number) => arms.filter((a) => a.bin === bin).map((a) => a.config);
    // Easy bins: the cheap one is already right, and a dearer one is never more accurate.
    expect(of(1)).toEqual(["cheap"]);
    expect(of(3)).toEqual(["cheap", "mid"]);
    expect(of(4)).toEqual(["cheap", "dear"]);
    for (const a of arms) {
      expect(a.evidence.meanCost).toBeLessThanOrEqual(a.budget * (1 + 1e-9));
      expect(a.evidence.lo).toBeLessThanOrEqual(a.evidence.accuracy);
    }
  });

  it("fits a policy that validates, bins by the text, and respects a cap", () => {
    const policy = fitPolicy(data, {
      seed: 1,
      version: "t1",
      createdAt: "2026-12-01",
      source: {
        kind: "calibration",
        dataset: "synthetic",
        seed: 1,
        problems: 200,
        oracleSamples: 256,
        command: "test",
      },
    });
    const checked = parsePolicy(JSON.parse(JSON.stringify(policy)));
    expect(checked.ok).toBe(true);
    // A cheap cap gets the cheap arm; a generous one buys accuracy where it helps.
    const hardPrompt = data.prompts[3]!;
    expect(choosePolicyArm(policy, hardPrompt, 150).arm.config).toBe("cheap");
    expect(choosePolicyArm(policy, hardPrompt, 5000).arm.config).toBe("dear");
    for (const cap of [150, 500, 2000]) {
      const d = choosePolicyArm(policy, hardPrompt, cap);
      expect(d.arm.evidence.highCost).toBeLessThanOrEqual(cap);
      expect(d.budgetFrom).toBe("request");
    }
    const curve = policyCurve(policy, data, [150, 500, 2000]);
    expect(curve[0]!.meanTokens).toBe(100);
    expect(curve[2]!.accuracy).toBeGreaterThan(curve[0]!.accuracy);
  });
});

describe("a policy that chooses after a verifier probe", () => {
  // The probe sees what the text cannot: here every prompt reads the same, and only the probe tells them apart.
  const data = synthetic(200);
  data.prompts = data.prompts.map(() => "Same words for every problem?");
  data.probe = {
    samples: 4,
    temperature: 0.8,
    features: data.passAt1.map((p) => [p, p, 1]),
    tokens: new Float64Array(200).fill(50),
  };
  const policy = fitPolicy(data, {
    seed: 1,
    version: "p1",
    createdAt: "x",
    source: { kind: "calibration", dataset: "synthetic", seed: 1, problems: 200, oracleSamples: 256, command: "test" },
  });

  it("records the probe, validates, and refuses to choose without the probe's features", () => {
    expect(policy.probe).toEqual({ samples: 4, temperature: 0.8 });
    expect(parsePolicy(JSON.parse(JSON.stringify(policy)))).toMatchObject({ ok: true });
    expect(() => choosePolicyArm(policy, "Same words for every problem?", 1000)).toThrow(/probe/);
  });

  it("bins by the probe and leaves the arm what the probe did not spend", () => {
    const easy = choosePolicyArm(policy, "Same words for every problem?", 5000, { features: [1, 1, 1], spent: 50 });
    const hard = choosePolicyArm(policy, "Same words for every problem?", 5000, { features: [0.2, 0.2, 1], spent: 50 });
    expect(easy.estimator).toBe("probe");
    expect(easy.bin).toBeLessThan(hard.bin);
    expect(hard.budget).toBe(4950);
    // With a cap the probe has nearly used up, nothing fits what is left: the bin's cheapest arm, within 60 tokens' cap.
    const squeezed = choosePolicyArm(policy, "Same words for every problem?", 160, {
      features: [0.2, 0.2, 1],
      spent: 100,
    });
    expect(squeezed.budget).toBe(60);
    expect(squeezed.arm.budget).toBe(
      Math.min(...policy.arms.filter((a) => a.bin === squeezed.bin).map((a) => a.budget)),
    );
  });

  it("counts the probe's cost on every problem in its curve", () => {
    const curve = policyCurve(policy, data, [150]);
    expect(curve[0]!.meanTokens).toBe(150);
    expect(curve[0]!.meanGenerations).toBe(5);
  });
});

describe("policy document validation", () => {
  const base = fitPolicy(synthetic(100), {
    seed: 1,
    version: "t2",
    createdAt: "x",
    source: { kind: "calibration", dataset: "synthetic", seed: 1, problems: 100, oracleSamples: 256, command: "test" },
  });
  const cases: [string, (p: Record<string, any>) => void, string][] = [
    ["a wrong format", (p) => (p.format = "ttc-policy/9"), "format"],
    ["weights of the wrong length", (p) => p.estimator.weights.pop(), "estimator.weights"],
    ["features of another build", (p) => (p.estimator.features[0] = "something_else"), "estimator.features"],
    ["thresholds out of order", (p) => (p.estimator.thresholds = [1, 0, 2, 3]), "estimator.thresholds"],
    ["a bin without arms", (p) => (p.arms = p.arms.filter((a: { bin: number }) => a.bin !== 5)), "arms"],
    ["an arm whose spec is not a strategy", (p) => (p.arms[0].spec = { strategy: "magic" }), "arms.0.spec"],
    ["an unknown field", (p) => (p.extra = 1), "(root)"],
  ];
  for (const [what, mutate, path] of cases) {
    it(`refuses ${what}, naming ${path}`, () => {
      const doc = JSON.parse(JSON.stringify(base)) as PolicyDocument & Record<string, any>;
      mutate(doc);
      const r = parsePolicy(doc);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toContain(path);
    });
  }
});

describe("the service's shipped policy and auto", () => {
  it("validates, chooses from the text alone, and keeps the arm's typical cost within the cap", async () => {
    const { servicePolicy } = await import("../src/policy/shipped");
    const { decideAuto } = await import("../src/policy/auto");
    const policy = servicePolicy();
    expect(policy.probe).toBeNull();
    const easy = "Start with 12. Add 5. What is the final number?";
    const hard =
      "Start with 87. Multiply by 347. Square it. Subtract 918. Multiply by 56. Take the remainder when divided by 13. Multiply by 728. Add 649. Divide by 2. What is the final number?";
    const a = decideAuto(policy, easy, 20_000);
    const b = decideAuto(policy, hard, 20_000);
    expect(a.bin).toBeLessThan(b.bin);
    for (const d of [a, b]) {
      expect(StrategySpecSchema.safeParse(d.strategy).success).toBe(true);
      expect(d.evidence.highTokens).toBeLessThanOrEqual(20_000);
      expect(d.capFrom).toBe("request");
    }
    // Exploration: another configuration in the same bin, still within the cap, and marked.
    const explored = decideAuto(policy, hard, 20_000, undefined, { share: 0.1, draw: 0.05 });
    expect(explored.exploration).toBe(true);
    expect(explored.config).not.toBe(b.config);
    expect(explored.bin).toBe(b.bin);
    expect(explored.evidence.highTokens).toBeLessThanOrEqual(20_000);
    // Not drawn to explore: the policy's choice, logged with the probability it had (0.9), an explored one with 0.1 / k.
    const kept = decideAuto(policy, hard, 20_000, undefined, { share: 0.1, draw: 0.5 });
    expect({ ...kept, propensity: 1 }).toEqual(b);
    expect(kept.propensity).toBeCloseTo(0.9);
    expect(explored.propensity).toBeGreaterThan(0);
    expect(explored.propensity).toBeLessThanOrEqual(0.1);
    const dflt = decideAuto(policy, hard);
    expect(dflt.capFrom).toBe("policy default");
    expect(dflt.capTokens).toBe(policy.defaultBudget);
  });
});

describe("escalation: a policy in dollars routes to the larger model only where the data says it wins", () => {
  // Per bin (oracle bins here), three configurations: one small-model sample ($1, 100 tokens), sixteen ($16,
  // 1,600 tokens), and one large-model sample ($9, 100 tokens). On bins 1–3 the larger model is no more accurate
  // than one small sample; on bins 4–5 it is far more accurate than sixteen.
  const configs = [
    { config: "small-1", spec: StrategySpecSchema.parse({ strategy: "best-of-n", n: 1 }) },
    { config: "small-16", spec: StrategySpecSchema.parse({ strategy: "best-of-n", n: 16 }) },
    { config: "large-1", spec: StrategySpecSchema.parse({ strategy: "best-of-n", n: 1, model: "large" }) },
  ];
  const accuracy = (bin: number): number[] => (bin <= 3 ? [0.8, 0.9, 0.8] : [0.2, 0.3, 0.6]);
  function data(n: number): { d: OutcomeData; bins: number[] } {
    const rng = new Rng(17);
    const bins = Array.from({ length: n }, (_, i) => (i % 5) + 1);
    const correct = configs.map((_, c) => Uint8Array.from(bins, (b) => (rng.next() < accuracy(b)[c]! ? 1 : 0)));
    const tokens = [100, 1600, 100].map((t) => new Float64Array(n).fill(t));
    const money = [1, 16, 9].map((m) => new Float64Array(n).fill(m));
    const flops = [100 * 6e9, 1600 * 6e9, 100 * 84e9].map((f) => new Float64Array(n).fill(f));
    const generations = [1, 16, 1].map((g) => new Float64Array(n).fill(g));
    const prompts = bins.map((b, i) => `Question ${i}: ${"7 ".repeat(b)}`);
    return {
      d: {
        prompts,
        passAt1: bins.map((b) => 1 - b / 6),
        oracleSamples: 256,
        configs,
        correct,
        tokens,
        money,
        flops,
        generations,
      },
      bins,
    };
  }
  const { d, bins } = data(2000);
  const isLarge = (a: { spec: { strategy: string } }) =>
    a.spec.strategy === "best-of-n" && (a.spec as { model?: string }).model === "large";

  it("in dollars: never on bins 1–3, from the larger model's cost up on bins 4–5, with tokens recorded beside", () => {
    const arms = fitArms(d, bins, "money");
    for (const bin of [1, 2, 3]) expect(arms.filter((a) => a.bin === bin).some(isLarge)).toBe(false);
    for (const bin of [4, 5]) {
      const large = arms.filter((a) => a.bin === bin && isLarge(a));
      expect(large).toHaveLength(1);
      expect(large[0]!.budget).toBeGreaterThanOrEqual(9);
      expect(large[0]!.evidence).toMatchObject({ meanCost: 9, meanTokens: 100, highTokens: 100 });
      // Sixteen small samples cost more than the larger model and are less accurate: never chosen above it.
      expect(arms.filter((a) => a.bin === bin && a.config === "small-16")).toHaveLength(0);
    }
  });

  it("in tokens the larger model's sample looks as cheap as a small one: that is why its candidates need a priced unit", () => {
    const arms = fitArms(d, bins, "tokens");
    for (const bin of [4, 5]) expect(arms.filter((a) => a.bin === bin)[0]!.config).toBe("large-1");
  });

  it("a fitted policy in dollars validates, and its choice honours both the dollar cap and a token cap", () => {
    const policy = fitPolicy(d, {
      seed: 1,
      costUnit: "money",
      version: "esc",
      createdAt: "2026-12-02T00:00:00Z",
      source: { kind: "calibration", dataset: "synthetic", seed: 1, problems: 2000, oracleSamples: 256, command: "" },
    });
    expect(parsePolicy(JSON.parse(JSON.stringify(policy)))).toMatchObject({ ok: true });
    expect(policy.costUnit).toBe("money");
    for (const prompt of d.prompts.slice(0, 25)) {
      const rich = choosePolicyArm(policy, prompt, 100);
      expect(rich.arm.evidence.highCost).toBeLessThanOrEqual(100);
      // A token cap below 1,600 rules out sixteen samples whatever the dollar cap.
      const capped = choosePolicyArm(policy, prompt, 100, undefined, undefined, 1000);
      expect(capped.arm.evidence.highTokens).toBeLessThanOrEqual(1000);
      expect(capped.tokenCap).toBe(1000);
    }
    // The document's rule: a policy in dollars records tokens beside every arm.
    const broken = JSON.parse(JSON.stringify(policy)) as PolicyDocument;
    delete (broken.arms[0]!.evidence as { highTokens?: number }).highTokens;
    expect(parsePolicy(broken)).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^policy field arms\.0\.evidence: needs meanTokens and highTokens/),
    });
    expect(parsePolicy({ ...policy, probe: { samples: 4, temperature: 0.8 } })).toMatchObject({ ok: false });
  });
});
