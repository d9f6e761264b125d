/**
 * The headline statistic's pieces (src/eval/headline.ts) and the arm choice under hard caps (src/policy/fit.ts)
 * on small hand-made outcome data: over-cap runs are failures, the baseline is chosen on fit data, the paired
 * bootstrap brackets the estimate and is exact for identical sides, and a fingerprint tells models apart.
 */
import { describe, expect, it } from "vitest";
import { bestFixed, bootstrapDraws, cappedConfig, pairedDelta } from "../src/eval/headline";
import { StrategySpecSchema } from "../src/engine/strategies";
import { fitArms, type OutcomeData } from "../src/policy/fit";
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

  it("chooses arms under hard caps: only configurations whose 90th-percentile cost fits, by capped accuracy", () => {
    const d = data(40, (i) => (i % 10 < 8 ? 800 : 5000));
    const bins = d.prompts.map(() => 1);
    const capped = fitArms(d, bins, "tokens", true);
    // Below dear's 90th percentile (5000) only cheap is eligible; from there dear (right on all within 5000).
    expect(capped[0]?.config).toBe("cheap");
    const dear = capped.find((a) => a.config === "dear");
    expect(dear?.budget).toBeGreaterThanOrEqual(5000);
    for (const a of capped) expect(a.evidence.highCost).toBeLessThanOrEqual(a.budget * (1 + 1e-9));
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
