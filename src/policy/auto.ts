/**
 * `auto`: the strategy a policy chooses for one prompt within the caller's token cap, and the record of why
 * (what the API shows with the solve, and returns alone for a dry run).
 */
import type { StrategySpec } from "../engine/strategies";
import { choosePolicyArm, generationsWithProbe, probeSamplesSpent, type ProbeInput } from "./choose";
import type { PolicyArm, PolicyDocument } from "./document";

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
  /** The token cap the choice was made within, and where it came from. */
  capTokens: number;
  capFrom: "request" | "policy default" | "key default";
  /** The calibration data's figures for this choice on problems of this bin (in-sample: the choice was made on them). */
  evidence: { accuracy: number; lo: number; hi: number; count: number; meanTokens: number; highTokens: number };
  /** With estimator `probe`: the probe that ran first (its features by name, and what it spent). */
  probe?: { samples: number; temperature: number; features: Record<string, number>; spend: { tokens: number; generations: number; money: number } };
  /** With estimator `free` under a policy that probes: why the probe did not run. */
  probeSkipped?: string;
}

/**
 * The policy's choice, or with probability `share` (decided by `draw`, uniform in [0, 1)) an alternative in
 * the same bin: another of its arms or one of its listed alternatives, drawn uniformly among those whose
 * 90th-percentile cost fits the cap and whose generations fit the generation cap. Never beyond the caller's
 * budget; when nothing else fits, the policy's choice.
 */
export function decideAuto(policy: PolicyDocument, prompt: string, capTokens?: number, maxGenerations?: number, explore?: { share: number; draw: number }, probe?: ProbeInput): AutoDecision {
  const d = choosePolicyArm(policy, prompt, capTokens, probe, maxGenerations);
  const probed = probeSamplesSpent(policy, probe);
  let arm: { config: string; spec: StrategySpec; evidence: PolicyArm["evidence"] } = d.arm;
  let exploration = false;
  let propensity = 1;
  if (explore && explore.share > 0) {
    const fits = (c: { config: string; spec: StrategySpec; highCost: number }) => c.config !== d.arm.config && c.highCost <= d.budget && (maxGenerations === undefined || generationsWithProbe(c.spec, probed) <= maxGenerations);
    const others = [
      ...policy.arms.filter((a) => a.bin === d.bin).map((a) => ({ config: a.config, spec: a.spec, highCost: a.evidence.highCost, evidence: a.evidence })),
      ...policy.alternatives
        .filter((a) => a.bin === d.bin)
        // An alternative's accuracy here is not known yet: the whole interval, and its midpoint.
        .map((a) => ({ config: a.config, spec: a.spec, highCost: a.highCost, evidence: { accuracy: 0.5, lo: 0, hi: 1, count: a.count, meanCost: a.meanCost, highCost: a.highCost, meanGenerations: a.meanGenerations } })),
    ].filter(fits);
    // Nothing else fits: the choice is certain. Else the same draw, rescaled, picks which: no second random number needed.
    if (others.length > 0) {
      const share = Math.min(1, explore.share);
      propensity = 1 - share;
      if (explore.draw < share) {
        arm = others[Math.min(others.length - 1, Math.floor((explore.draw / share) * others.length))] as (typeof others)[number];
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
    capTokens: d.budget,
    capFrom: d.budgetFrom,
    evidence: { accuracy: e.accuracy, lo: e.lo, hi: e.hi, count: e.count, meanTokens: e.meanCost, highTokens: e.highCost },
  };
}
