/**
 * Re-tuning from logged outcomes, the pure parts: the outcome estimator, the refit with the active policy as a
 * prior, the replay comparison and the promotion rule.
 */
import { describe, expect, it } from "vitest";
import { Rng } from "../src/engine/random";
import { chooseArmFor } from "../src/policy/choose";
import { parsePolicy } from "../src/policy/document";
import { fitOutcomeEstimator, predictFeatures } from "../src/policy/estimator";
import { promptFeatures } from "../src/policy/features";
import {
  compareReplays,
  fitFromOutcomes,
  replay,
  retunePolicy,
  specKey,
  usableOutcomes,
  type LoggedOutcome,
} from "../src/policy/retune";
import { servicePolicy } from "../src/policy/shipped";
import { configuredPolicy } from "../src/policy/configured";
import { decideAuto } from "../src/policy/auto";

describe("the outcome estimator", () => {
  it("finds which feature makes outcomes worse, apart from which configuration ran", () => {
    const rng = new Rng(3);
    const X: number[][] = [];
    const groups: number[] = [];
    const y: number[] = [];
    for (let i = 0; i < 800; i++) {
      const hard = rng.next() * 4;
      const noise = rng.next();
      const g = i % 3;
      // Configuration 2 is much better; feature 0 (hardness) lowers the odds; feature 1 is noise.
      const logit = 2 - 1.5 * hard + (g === 2 ? 2 : 0);
      X.push([hard, noise]);
      groups.push(g);
      y.push(rng.next() < 1 / (1 + Math.exp(-logit)) ? 1 : 0);
    }
    const { model, cvLogLoss } = fitOutcomeEstimator(X, groups, y, 1);
    expect(model.weights[0]!).toBeLessThan(-0.5);
    expect(Math.abs(model.weights[1]!)).toBeLessThan(0.25);
    expect(cvLogLoss).toBeLessThan(Math.log(2));
    // Higher is easier, like the ridge model's logit of pass@1.
    expect(predictFeatures(model, [0.2, 0.5])).toBeGreaterThan(predictFeatures(model, [3.5, 0.5]));
  });

  it("refuses too few outcomes", () => {
    expect(() => fitOutcomeEstimator([[1], [2], [3]], [0, 0, 0], [1, 0, 1], 1)).toThrow(/at least 4/);
  });
});

/** Logged outcomes of the shipped policy on generic prompts, with an outcome model given per row. */
function logs(
  count: number,
  seed: number,
  exploreShare: number,
  rightChance: (arm: { meanCost: number; bin: number }, prompt: string) => number,
): LoggedOutcome[] {
  const policy = servicePolicy();
  const rng = new Rng(seed);
  const out: LoggedOutcome[] = [];
  for (let i = 0; i < count; i++) {
    const steps = 2 + Math.floor(rng.next() * 8);
    const prompt = `Start with ${Math.floor(rng.next() * 90)}.${" Multiply by 7. Add 123.".repeat(steps)} What is the final number?`;
    const features = promptFeatures(prompt);
    const chosen = chooseArmFor(policy, features, 20_000, 0);
    const inBin = policy.arms.filter((a) => a.bin === chosen.bin);
    const explore = rng.next() < exploreShare;
    const arm = explore ? inBin[Math.floor(rng.next() * inBin.length)]! : chosen.arm;
    // Chosen with 1 − share, or drawn uniformly from the bin's arms (the chosen one among them) with share.
    const propensity = (arm === chosen.arm ? 1 - exploreShare : 0) + exploreShare / inBin.length;
    out.push({
      solveId: `s${seed}-${i}`,
      features,
      spec: arm.spec,
      tokens: arm.evidence.meanCost,
      money: arm.evidence.meanCost * 2e-7,
      flops: arm.evidence.meanCost * 6e9,
      generations: arm.evidence.meanGenerations,
      correct: rng.next() < rightChance({ meanCost: arm.evidence.meanCost, bin: chosen.bin }, prompt),
      capTokens: 20_000,
      capCost: null,
      maxGenerations: null,
      exploration: explore,
      propensity,
    });
  }
  return out;
}

describe("re-tuning a policy from logged outcomes", () => {
  const active = servicePolicy();
  const options = { version: "retune-test", createdAt: "2026-12-02T00:00:00Z", seed: 7, minOutcomes: 200 };

  it("refuses too few outcomes, naming how many there are and how many it needs", () => {
    const r = retunePolicy(
      active,
      logs(50, 1, 0.3, () => 0.8),
      options,
    );
    expect(r).toMatchObject({ ok: false, outcomes: 50 });
    expect(!r.ok && r.reason).toMatch(/at least 200 .* there are 50/);
  });

  it("leaves out outcomes logged with another feature set", () => {
    const rows = logs(10, 2, 0.3, () => 0.8);
    rows[0] = { ...rows[0]!, features: rows[0]!.features.slice(1) };
    rows[1] = { ...rows[1]!, features: rows[1]!.features.map(() => NaN) };
    expect(usableOutcomes(active, rows)).toHaveLength(8);
  });

  it("writes a valid document whose estimator ranks prompts the way the outcomes do", () => {
    // Longer prompts fail more often here, whatever ran.
    const rows = logs(600, 3, 0.3, (_arm, prompt) => (prompt.length < 120 ? 0.95 : prompt.length < 200 ? 0.6 : 0.2));
    const doc = fitFromOutcomes(active, rows, options);
    expect(parsePolicy(doc).ok).toBe(true);
    expect(doc.estimator.kind).toBe("logistic-outcome");
    expect(doc.source.kind).toBe("retune");
    const short = chooseArmFor(
      doc,
      promptFeatures("Start with 4. Multiply by 7. Add 123. Multiply by 7. What is the final number?"),
      20_000,
      0,
    );
    const long = chooseArmFor(
      doc,
      promptFeatures(`Start with 4.${" Multiply by 7. Add 123.".repeat(9)} What is the final number?`),
      20_000,
      0,
    );
    expect(short.bin).toBeLessThan(long.bin);
  });

  it("moves to cheaper arms when the outcomes say they are better, and the comparison promotes it", () => {
    // Arms under 5,000 tokens are right 92% of the time here, dearer ones 70%.
    const rows = logs(1500, 4, 0.4, (arm) => (arm.meanCost < 5000 ? 0.92 : 0.7));
    const r = retunePolicy(active, rows, options);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.evaluation.candidate.meanTokens).toBeLessThan(0.85 * r.evaluation.active.meanTokens);
    expect(r.promote).toBe(true);
    expect(replay(r.candidate, rows).meanTokens).toBeLessThan(replay(active, rows).meanTokens);
  });

  it("keeps the dear arms when only they are right, and a cheaper candidate would be rejected", () => {
    // Only the arm the active policy chose is right: the cheaper explored alternatives are wrong.
    const policy = servicePolicy();
    const rows = logs(1200, 5, 0.4, () => 1).map((r) => {
      const chosen = chooseArmFor(policy, r.features, 20_000, 0);
      return { ...r, correct: specKey(r.spec) === specKey(chosen.arm.spec) };
    });
    const r = retunePolicy(active, rows, options);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    // The refit keeps the right arms: its replayed accuracy stays at the active policy's.
    expect(r.evaluation.candidate.accuracy).toBeGreaterThan(0.95);
    // And a policy that took the cheapest arm everywhere scores worse, so the rule turns it down.
    const cheapest = {
      ...policy,
      arms: [1, 2, 3, 4, 5].map(
        (bin) => policy.arms.filter((a) => a.bin === bin).sort((a, b) => a.evidence.meanCost - b.evidence.meanCost)[0]!,
      ),
    };
    const decided = compareReplays(replay(policy, rows), replay(cheapest, rows));
    expect(decided.promote).toBe(false);
  });
});

describe("the promotion rule", () => {
  const score = (accuracy: number, meanTokens: number, replayed = 400) => ({
    replayed,
    effective: replayed,
    accuracy,
    meanTokens,
    meanCost: meanTokens,
    accuracyPerKTokens: (1000 * accuracy) / meanTokens,
  });

  it("promotes a cheaper policy shown to be as accurate, and a dearer one shown to be more accurate", () => {
    expect(compareReplays(score(0.8, 10_000, 1200), score(0.8, 2_000, 1200)).promote).toBe(true);
    expect(compareReplays(score(0.7, 10_000), score(0.85, 12_000)).promote).toBe(true);
  });

  it("does not promote cheapness bought with accuracy, nor cheapness with too little evidence, nor spending without a gain", () => {
    // Accuracy per token is far higher here, and the policy still loses: it is 20 points less accurate.
    const bought = compareReplays(score(0.8, 10_000), score(0.6, 2_000));
    expect(bought.promote).toBe(false);
    expect(bought.reason).toMatch(/not shown to be as accurate/);
    // The same accuracy on 40 outcomes cannot show non-inferiority within 3 points.
    expect(compareReplays(score(0.8, 10_000, 40), score(0.8, 2_000, 40)).promote).toBe(false);
    expect(compareReplays(score(0.8, 10_000), score(0.81, 12_000)).reason).toMatch(/dearer without a shown gain/);
  });
});

describe("re-tuning a policy in dollars (escalation arms)", () => {
  const active = configuredPolicy({ POLICY: "default-escalation" });
  const CAP = 0.0005;
  const TOKENS = 20_000;
  // Auto solves logged under the escalation policy at a $0.0005 cap, each with what it cost in every unit.
  function logged(count: number, seed: number): LoggedOutcome[] {
    const rng = new Rng(seed);
    return Array.from({ length: count }, (_, i) => {
      const steps = 2 + Math.floor(rng.next() * 8);
      const prompt = `Start with ${Math.floor(rng.next() * 90)}.${" Multiply by 7. Add 123.".repeat(steps)} What is the final number?`;
      const d = decideAuto(active, prompt, CAP, undefined, undefined, undefined, TOKENS);
      return {
        solveId: `m${seed}-${i}`,
        features: promptFeatures(prompt),
        spec: d.strategy,
        tokens: d.evidence.meanTokens,
        money: d.evidence.meanCost,
        flops: d.evidence.meanTokens * 6e9,
        generations: 1,
        correct: rng.next() < d.evidence.accuracy,
        capTokens: TOKENS,
        capCost: CAP,
        maxGenerations: null,
        exploration: false,
        propensity: 1,
      };
    });
  }

  it("replays choices at the logged cap in dollars, not the policy's default", () => {
    const rows = logged(200, 5);
    expect(rows.some((r) => (r.spec as { model?: string }).model === "large")).toBe(true);
    expect(replay(active, rows).replayed).toBe(rows.length);
    // Without the dollar cap the replay decides at the policy's default, a richer arm: most rows no longer match.
    expect(
      replay(
        active,
        rows.map((r) => ({ ...r, capCost: null })),
      ).replayed,
    ).toBeLessThan(rows.length / 2);
  });

  it("keeps the unit: the refit is in dollars, its arms carry their tokens, and the comparison reads dollars", () => {
    const r = retunePolicy(active, logged(400, 6), {
      version: "money-retune",
      createdAt: "2026-12-02T00:00:00Z",
      seed: 1,
      minOutcomes: 200,
    });
    if (!r.ok) throw new Error(r.reason);
    expect(r.candidate.costUnit).toBe("money");
    expect(parsePolicy(JSON.parse(JSON.stringify(r.candidate))).ok).toBe(true);
    for (const a of r.candidate.arms) expect(a.evidence.highTokens).toBeGreaterThan(0);
    expect(r.evaluation.active.meanCost).toBeLessThanOrEqual(CAP);
    expect(r.evaluation.active.meanTokens).toBeGreaterThan(r.evaluation.active.meanCost);
  });
});
