/**
 * `auto`: the strategy a policy chooses for one prompt within the caller's token cap, and the record of why
 * (what the API shows with the solve, and returns alone for a dry run).
 */
import { runsOnLargeModel, type StrategySpec } from "../engine/strategies";
import { armNeeds, choosePolicyArm, generationsWithProbe, probeSamplesSpent, type ProbeInput } from "./choose";
import type { CostUnit } from "../engine/meter";
import { armTokens, type PolicyArm, type PolicyDocument } from "./document";

export interface AutoDecision {
  policyVersion: string;
  /** Predicted difficulty bin, 1 (easiest) … 5, and what predicted it. */
  bin: number;
  estimator: "free" | "probe";
  /** True when this solve explores an alternative to the policy's choice (logged, so estimates keep improving). */
  exploration: boolean;
  /**
   * The probability this configuration had of being run for this prompt (1 − share for the policy's choice,
   * share / k for one of k alternatives): logged, so a re-tune can weigh each outcome by how rarely it was tried.
   */
  propensity: number;
  /** The configuration chosen, as a strategy spec and its label. */
  strategy: StrategySpec;
  config: string;
  /**
   * The cap the choice was made within, in the policy's cost unit, and where it came from; for a policy in
   * tokens `capTokens` is that cap, for one in dollars or FLOPs the token cap that bounded the choice too.
   */
  costUnit: CostUnit;
  capCost: number;
  capTokens: number;
  capFrom: "request" | "policy default" | "key default";
  /**
   * The calibration data's figures for this choice on problems of this bin (in-sample: the choice was made on
   * them): accuracy, tokens, and cost in the policy's unit.
   */
  evidence: {
    accuracy: number;
    lo: number;
    hi: number;
    count: number;
    meanTokens: number;
    highTokens: number;
    meanCost: number;
    highCost: number;
  };
  /** With estimator `probe`: the probe that ran first (its features by name, and what it spent). */
  probe?: {
    samples: number;
    temperature: number;
    features: Record<string, number>;
    spend: { tokens: number; generations: number; money: number };
  };
  /** With estimator `free` under a policy that probes: why the probe did not run. */
  probeSkipped?: string;
}

/**
 * The policy's choice, or with probability `share` (decided by `draw`, uniform in [0, 1)) an alternative in
 * the same bin: another of its arms or one of its listed alternatives, drawn uniformly among those whose
 * 90th-percentile cost fits the cap and whose generations fit the generation cap. Never beyond the caller's
 * budget; when nothing else fits, the policy's choice. `cap` is in the policy's unit; `tokenCap` bounds a policy
 * in dollars or FLOPs too.
 */
export function decideAuto(
  policy: PolicyDocument,
  prompt: string,
  cap?: number,
  maxGenerations?: number,
  explore?: { share: number; draw: number },
  probe?: ProbeInput,
  tokenCap?: number,
): AutoDecision {
  const d = choosePolicyArm(policy, prompt, cap, probe, maxGenerations, tokenCap);
  const tokens = d.tokenCap ?? Infinity;
  const probed = probeSamplesSpent(policy, probe);
  let arm: { config: string; spec: StrategySpec; evidence: PolicyArm["evidence"] } = d.arm;
  let exploration = false;
  let propensity = 1;
  if (explore && explore.share > 0) {
    const fits = (c: { config: string; spec: StrategySpec; budget?: number; evidence: PolicyArm["evidence"] }) =>
      c.config !== d.arm.config &&
      armNeeds(policy, c) <= d.budget &&
      armTokens(c.evidence).high <= tokens &&
      (maxGenerations === undefined || generationsWithProbe(c.spec, probed) <= maxGenerations);
    const others = [
      ...policy.arms
        .filter((a) => a.bin === d.bin)
        // An arm keeps the cap it was chosen for: under `armChoice: "cap"` that is what it needs.
        .map((a) => ({ config: a.config, spec: a.spec, budget: a.budget, evidence: a.evidence })),
      ...policy.alternatives
        .filter((a) => a.bin === d.bin)
        // An alternative's accuracy here is not known yet: the whole interval, and its midpoint.
        .map((a) => ({
          config: a.config,
          spec: a.spec,
          evidence: {
            accuracy: 0.5,
            lo: 0,
            hi: 1,
            count: a.count,
            meanCost: a.meanCost,
            highCost: a.highCost,
            meanGenerations: a.meanGenerations,
            ...(a.highTokens !== undefined ? { highTokens: a.highTokens } : {}),
            ...(a.meanTokens !== undefined ? { meanTokens: a.meanTokens } : {}),
          },
        })),
    ].filter(fits);
    // Nothing else fits: the choice is certain. Else the same draw, rescaled, picks which: no second random number needed.
    if (others.length > 0) {
      const share = Math.min(1, explore.share);
      propensity = 1 - share;
      if (explore.draw < share) {
        arm = others[
          Math.min(others.length - 1, Math.floor((explore.draw / share) * others.length))
        ] as (typeof others)[number];
        exploration = true;
        propensity = share / others.length;
      }
    }
  }
  const e = arm.evidence;
  return {
    policyVersion: d.policyVersion,
    bin: d.bin,
    estimator: d.estimator,
    exploration,
    propensity,
    strategy: arm.spec,
    config: arm.config,
    costUnit: policy.costUnit,
    capCost: d.budget,
    capTokens: policy.costUnit === "tokens" ? d.budget : tokens,
    capFrom: d.budgetFrom,
    evidence: {
      accuracy: e.accuracy,
      lo: e.lo,
      hi: e.hi,
      count: e.count,
      meanTokens: armTokens(e).mean,
      highTokens: armTokens(e).high,
      meanCost: e.meanCost,
      highCost: e.highCost,
    },
  };
}

/** Whether any arm or alternative of the policy runs on the larger model. */
export function usesLargeModel(policy: PolicyDocument): boolean {
  return policy.arms.some((a) => runsOnLargeModel(a.spec)) || policy.alternatives.some((a) => runsOnLargeModel(a.spec));
}

/**
 * The policy as a service without a larger model can run it: arms and alternatives on the larger model left
 * out, except in a bin that has nothing else (its solves are then refused, naming the missing model).
 */
export function servablePolicy(policy: PolicyDocument, hasLarge: boolean): PolicyDocument {
  if (hasLarge || !usesLargeModel(policy)) return policy;
  const arms = policy.arms.filter(
    (a) => !runsOnLargeModel(a.spec) || policy.arms.every((b) => b.bin !== a.bin || runsOnLargeModel(b.spec)),
  );
  return { ...policy, arms, alternatives: policy.alternatives.filter((a) => !runsOnLargeModel(a.spec)) };
}
