/**
 * The verifier probe as an auto solve's first steps, in the engine (pure, in process on the simulated
 * world): the probe runs through the ordinary executor step, the arm is chosen from its features within the
 * rest of the cap, and its samples become the arm's candidates.
 */
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import type { CallRecord } from "../src/engine/budget";
import { planStep, startExecution } from "../src/engine/executor";
import { executeStep } from "../src/engine/executeStep";
import { aggregateScores } from "../src/engine/solutionSteps";
import { StrategySpecSchema, type StrategySpec } from "../src/engine/strategies";
import type { Candidate } from "../src/engine/types";
import { loadWorld } from "../src/eval/io";
import { choosePolicyArm, generationsWithProbe } from "../src/policy/choose";
import { parsePolicy, type PolicyDocument } from "../src/policy/document";
import { predictFeatures } from "../src/policy/estimator";
import { promptFeatures } from "../src/policy/features";
import { probeFeatures, PROBE_FEATURES } from "../src/policy/probe";
import {
  expectedProbeTokens,
  forecastProbe,
  imputedProbeFeatures,
  probeAffordable,
  probeSpec,
  probeWorstTokens,
  abandonProbedStep,
  executeProbedStep,
  startProbe,
  type ProbedExecution,
  type ProbePlan,
} from "../src/policy/probeStep";
import { simProviders } from "../src/sim/provider";

const PROMPT = "Start with 48. Add 17. Multiply by 6. Subtract 129. Divide by 3. What is the final number?";
const { providers, costs } = simProviders(loadWorld("worlds/default.json"));

function shippedProbing(): PolicyDocument {
  const r = parsePolicy(JSON.parse(readFileSync("policies/default.json", "utf8")));
  if (!r.ok) throw new Error(r.error);
  return r.policy;
}

/** The shipped probing policy with every arm replaced by one configuration (so the arm is known whatever the bin). */
function withEveryArm(spec: unknown): PolicyDocument {
  const policy = shippedProbing();
  const parsed = StrategySpecSchema.parse(spec);
  return {
    ...policy,
    arms: policy.arms.map((a) => ({
      ...a,
      config: JSON.stringify(parsed),
      spec: parsed,
      evidence: { ...a.evidence, highCost: 100, meanCost: 80 },
    })),
  };
}

function planFor(policy: PolicyDocument, cap: number, extra: Partial<ProbePlan> = {}): ProbePlan {
  return {
    policy,
    capTokens: cap,
    capFrom: "request",
    explore: { share: 0, draw: 0.5 },
    worstTokens: probeWorstTokens(policy, PROMPT, costs),
    expectedTokens: expectedProbeTokens(policy),
    ...extra,
  };
}

/** Run a probing solve to its end, step by step, keeping every step's calls and the state after each. */
async function runProbed(
  policy: PolicyDocument,
  cap: number,
  seed = 7,
  extra: Partial<ProbePlan> = {},
): Promise<{ exec: ProbedExecution; calls: CallRecord[]; states: ProbedExecution[] }> {
  const started = startExecution({ question: PROMPT }, probeSpec(policy), { tokens: cap }, seed, costs);
  if (!started.ok) throw new Error(started.error);
  let exec = startProbe(started.execution, planFor(policy, cap, extra));
  const calls: CallRecord[] = [];
  const states: ProbedExecution[] = [];
  while (exec.status === "running") {
    const report = await executeProbedStep(exec, { providers, costs, now: () => 0 });
    calls.push(...report.calls);
    exec = report.exec;
    states.push(exec);
  }
  return { exec, calls, states };
}

/** The probe alone: what its k samples are for this seed. */
async function probeOnly(policy: PolicyDocument, seed = 7): Promise<Candidate[]> {
  const started = startExecution({ question: PROMPT }, probeSpec(policy), {}, seed, costs);
  if (!started.ok) throw new Error(started.error);
  let exec = started.execution;
  while (exec.status === "running") exec = (await executeStep(exec, { providers, costs, now: () => 0 })).exec;
  return exec.outcome!.candidates;
}

describe("the verifier probe step", () => {
  it("runs first, is logged as the probe, chooses the arm from its features, and best-of-N counts its samples toward N", async () => {
    const policy = withEveryArm({ strategy: "best-of-n", n: 16, selection: "weighted" });
    const { exec, calls, states } = await runProbed(policy, 200_000);
    expect(exec.stopReason).toBe("complete");
    // Two probe steps (sample, score), then the arm's own (sample the other 8, score them).
    expect(calls.slice(0, 2).map((c) => c.purpose)).toEqual(["probe-generate", "probe-score"]);
    expect(calls.slice(2).map((c) => c.purpose)).toEqual(["generate", "score"]);
    expect(calls[0]!.samples).toBe(8);
    expect(calls[2]!.samples).toBe(8);
    // The choice is committed with the step that finished the probe.
    expect(states[0]!.probe?.phase).toBe("probing");
    expect(states[1]!.probe?.phase).toBe("decided");
    expect(exec.ledger.generations).toBe(16);
    expect(exec.ledger.samples).toBe(16);
    const probe = await probeOnly(policy);
    const decision = exec.probe?.phase === "decided" ? exec.probe.decision : undefined;
    expect(decision?.estimator).toBe("probe");
    expect(decision?.probe?.features).toEqual(
      Object.fromEntries(PROBE_FEATURES.map((n, i) => [n, probeFeatures(probe)[i]])),
    );
    // What the probe spent is the ledger after its two steps.
    expect(decision?.probe?.spend.tokens).toBe(states[1]!.ledger.tokens);
    // The probe's samples (with their scores) are the first 8 of the arm's 16 candidates.
    const candidates = exec.outcome!.candidates;
    expect(candidates).toHaveLength(16);
    expect(candidates.slice(0, 8)).toEqual(probe);
    // The bin is the one the probe's features predict.
    const z = predictFeatures({ ...policy.estimator }, [...promptFeatures(PROMPT), ...probeFeatures(probe)]);
    expect(decision?.bin).toBe(
      choosePolicyArm(policy, PROMPT, 200_000, { features: probeFeatures(probe), spent: 0 }).bin,
    );
    expect(Number.isFinite(z)).toBe(true);
  });

  it("a best-of-N arm smaller than the probe keeps every probe sample: they are paid for", async () => {
    const policy = withEveryArm({ strategy: "best-of-n", n: 4, selection: "majority" });
    const { exec, calls } = await runProbed(policy, 200_000);
    expect(calls.map((c) => c.purpose)).toEqual(["probe-generate", "probe-score"]);
    expect(exec.ledger.generations).toBe(8);
    expect(exec.outcome!.candidates).toEqual(await probeOnly(policy));
  });

  it("re-aggregates the probe's scores as the arm aggregates them", async () => {
    const policy = withEveryArm({ strategy: "best-of-n", n: 12, selection: "weighted", aggregation: "min" });
    const probe = await probeOnly(policy);
    const { exec } = await runProbed(policy, 200_000);
    const given = exec.outcome!.candidates.slice(0, 8);
    expect(given.map((c) => c.steps)).toEqual(probe.map((c) => c.steps));
    // The probe scored with the last step's score; the arm weighs them by their weakest step.
    expect(given.some((c, i) => c.score !== probe[i]!.score)).toBe(true);
    for (const c of exec.outcome!.candidates)
      if (c.stepScores?.length) expect(c.score).toBe(aggregateScores(c.stepScores, "min"));
  });

  it("other strategies keep the probe's samples in their final selection", async () => {
    const policy = withEveryArm({ strategy: "revisions", sequential: 1, parallel: 2, selection: "majority" });
    const probe = await probeOnly(policy);
    const { exec } = await runProbed(policy, 200_000);
    expect(exec.ledger.generations).toBe(8 + 2);
    const pool = exec.outcome!.candidates;
    expect(pool).toHaveLength(10);
    for (const p of probe) expect(pool.some((c) => JSON.stringify(c.steps) === JSON.stringify(p.steps))).toBe(true);
    const beam = withEveryArm({ strategy: "beam-search", n: 4, width: 2 });
    const beamProbe = await probeOnly(beam);
    const beamRun = await runProbed(beam, 200_000);
    for (const p of beamProbe)
      expect(
        beamRun.exec.outcome!.candidates.some(
          (c) => JSON.stringify(c.steps) === JSON.stringify(p.steps) && c.score === p.score,
        ),
      ).toBe(true);
  });

  it("explores after the probe as decideAuto does: another configuration in the probe's bin, within the rest of the cap", async () => {
    const policy = shippedProbing();
    const decisionOf = (e: ProbedExecution) => (e.probe?.phase === "decided" ? e.probe.decision : undefined);
    const own = decisionOf((await runProbed(policy, 50_000, 7)).exec)!;
    const explored = decisionOf((await runProbed(policy, 50_000, 7, { explore: { share: 1, draw: 0 } })).exec)!;
    expect(own.exploration).toBe(false);
    expect(explored.exploration).toBe(true);
    expect(explored.bin).toBe(own.bin);
    expect(explored.config).not.toBe(own.config);
    expect(explored.evidence.highTokens).toBeLessThanOrEqual(50_000 - explored.probe!.spend.tokens);
  });

  it("never spends beyond the cap, the probe included", async () => {
    const policy = withEveryArm({ strategy: "best-of-n", n: 64, selection: "weighted" });
    const worst = probeWorstTokens(policy, PROMPT, costs);
    for (const cap of [worst + 100, worst + 2_000, worst * 2]) {
      const { exec, calls } = await runProbed(policy, cap);
      // What the providers billed (the call records), not only what the ledger says.
      const billed = calls.reduce((t, c) => t + c.promptTokens + c.completionTokens, 0);
      expect(billed).toBeLessThanOrEqual(cap);
      expect(exec.ledger.tokens).toBe(billed);
      expect(exec.probe?.phase).toBe("decided");
    }
  });

  it("a cancel that arrives during the probe's last step: the step commits the choice, then the solve stops", async () => {
    const policy = withEveryArm({ strategy: "best-of-n", n: 16, selection: "weighted" });
    const started = startExecution({ question: PROMPT }, probeSpec(policy), { tokens: 200_000 }, 7, costs);
    if (!started.ok) throw new Error(started.error);
    let exec: ProbedExecution = startProbe(started.execution, planFor(policy, 200_000));
    // Asked before each step and once its calls returned: the fourth ask is after the probe's scoring.
    let asked = 0;
    const cancelRequested = () => ++asked >= 4;
    const purposes: string[] = [];
    while (exec.status === "running") {
      const report = await executeProbedStep(exec, { providers, costs, now: () => 0, cancelRequested });
      purposes.push(...report.calls.map((c) => c.purpose));
      exec = report.exec;
    }
    expect(purposes).toEqual(["probe-generate", "probe-score"]);
    expect(exec.stopReason).toBe("cancelled");
    expect(exec.probe?.phase).toBe("decided");
    // The answer is the chosen arm's, from the probe's samples it was given.
    expect(exec.outcome!.candidates).toEqual(
      (await probeOnly(policy)).map((c) => ({ ...c, score: aggregateScores(c.stepScores!, "last") })),
    );
  });

  it("abandoning a probing solve logs what its step's journal shows as the probe's", () => {
    const policy = withEveryArm({ strategy: "best-of-n", n: 16, selection: "weighted" });
    const started = startExecution({ question: PROMPT }, probeSpec(policy), { tokens: 200_000 }, 7, costs);
    if (!started.ok) throw new Error(started.error);
    const exec = startProbe(started.execution, planFor(policy, 200_000));
    const plan = planStep(exec, costs, 0);
    if (plan.kind !== "call") throw new Error("the probe starts by sampling");
    const entry = {
      step: 0,
      work: plan.work,
      interruptions: 0,
      prior: [],
      received: [],
      discarded: [],
      providerMs: 0,
      inFlight: { offset: 0, count: plan.work.requests.length },
    };
    const report = abandonProbedStep(exec, entry, costs, "internal error: test");
    expect(report.exec.status).toBe("done");
    expect(report.exec.probe?.phase).toBe("probing");
    expect(report.calls.length).toBeGreaterThan(0);
    expect(report.calls.every((c) => c.purpose === "probe-generate" && c.status === "interrupted")).toBe(true);
    expect(report.exec.ledger.tokens).toBe(report.calls.reduce((t, c) => t + c.promptTokens + c.completionTokens, 0));
  });

  it("affords the probe only when the cap covers its worst case and every bin's cheapest arm after it", () => {
    const policy = shippedProbing();
    const worst = probeWorstTokens(policy, PROMPT, costs);
    // The shipped policy's arms were chosen under hard caps: an arm needs the cap it was chosen for.
    expect(policy.armChoice).toBe("cap");
    const cheapest = Math.max(
      ...[1, 2, 3, 4, 5].map((bin) => Math.min(...policy.arms.filter((a) => a.bin === bin).map((a) => a.budget))),
    );
    expect(probeAffordable(policy, worst + cheapest, undefined, worst)).toEqual({ ok: true });
    const short = probeAffordable(policy, worst + cheapest - 1, undefined, worst);
    expect(short.ok).toBe(false);
    expect(!short.ok && short.reason).toMatch(/cannot afford the probe/);
    const gens = probeAffordable(policy, 1e9, 4, worst);
    expect(!gens.ok && gens.reason).toMatch(/8 samples exceed the generation cap of 4/);
    expect(probeAffordable(policy, 1e9, 16, worst).ok).toBe(true);
  });

  it("counts the probe's samples in an arm's generations: toward N for best-of-N, on top for the rest", () => {
    const spec = (s: unknown): StrategySpec => StrategySpecSchema.parse(s);
    expect(generationsWithProbe(spec({ strategy: "best-of-n", n: 16 }), 8)).toBe(16);
    expect(generationsWithProbe(spec({ strategy: "best-of-n", n: 4 }), 8)).toBe(8);
    expect(generationsWithProbe(spec({ strategy: "revisions", sequential: 2, parallel: 2 }), 8)).toBe(12);
    expect(generationsWithProbe(spec({ strategy: "revisions", sequential: 2, parallel: 2 }), 0)).toBe(4);
  });

  it("imputed probe features (the calibration means) leave the text's prediction, and say `free`", () => {
    const policy = shippedProbing();
    const imputed = choosePolicyArm(policy, PROMPT, 50_000, {
      features: imputedProbeFeatures(policy),
      spent: 0,
      imputed: true,
    });
    expect(imputed.estimator).toBe("free");
    // The text's own contribution: the probe features' weights set to zero.
    const k = PROBE_FEATURES.length;
    const textOnly = {
      ...policy.estimator,
      weights: [...policy.estimator.weights.slice(0, -k), ...new Array<number>(k).fill(0)],
    };
    expect(imputed.predictedLogit).toBeCloseTo(
      predictFeatures(textOnly, [...promptFeatures(PROMPT), ...imputedProbeFeatures(policy)]),
      10,
    );
    expect(() => choosePolicyArm(policy, PROMPT, 50_000)).toThrow(/run the probe first/);
  });

  it("forecasts a probing solve without running it: the text's bin, an arm per bin, and their range", () => {
    const policy = shippedProbing();
    const f = forecastProbe(planFor(policy, 50_000), PROMPT);
    expect(f.arms.map((a) => a.bin)).toEqual([1, 2, 3, 4, 5]);
    expect(f.arms.some((a) => a.bin === f.textOnly.bin)).toBe(true);
    expect(f.accuracy.low).toBeLessThanOrEqual(f.accuracy.high);
    expect(f.tokens.low).toBeGreaterThan(expectedProbeTokens(policy)!);
    expect(f.tokens.low).toBeLessThanOrEqual(f.tokens.high);
  });
});
