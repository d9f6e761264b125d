/**
 * `auto`: the strategy a policy chooses for one prompt within the caller's token cap, and the record of why
 * (what the API shows with the solve, and returns alone for a dry run).
 */
import type { StrategySpec } from "../engine/strategies";
import { choosePolicyArm, generationsWithProbe, probeSamplesSpent, type ProbeInput } from "./choose";
import type { PolicyDocument } from "./document";

export interface AutoDecision {
  policyVersion: string;
  /** Predicted difficulty bin, 1 (easiest) … 5, and what predicted it. */
  bin: number;
  estimator: "free" | "probe";
  /** True when this solve explores a close alternative to the policy's choice (logged, so estimates keep improving). */
  exploration: boolean;
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
 * The policy's choice, or with probability `exploreShare` (drawn from `draw` in [0, 1)) a close alternative:
 * the bin's next cheaper arm, else its next richer one, that also fits the caps. Never beyond the caller's budget.
 */
export function decideAuto(policy: PolicyDocument, prompt: string, capTokens?: number, maxGenerations?: number, explore?: { share: number; draw: number }, probe?: ProbeInput): AutoDecision {
  const d = choosePolicyArm(policy, prompt, capTokens, probe, maxGenerations);
  const probed = probeSamplesSpent(policy, probe);
  let arm = d.arm;
  let exploration = false;
  if (explore && explore.draw < explore.share) {
    const fits = policy.arms
      .filter((a) => a.bin === d.bin && a.config !== d.arm.config && a.evidence.highCost <= d.budget && (maxGenerations === undefined || generationsWithProbe(a.spec, probed) <= maxGenerations))
      .sort((a, b) => a.budget - b.budget);
    const alternative = [...fits].reverse().find((a) => a.budget < d.arm.budget) ?? fits.find((a) => a.budget > d.arm.budget);
    if (alternative) {
      arm = alternative;
      exploration = true;
    }
  }
  const e = arm.evidence;
  return {
    policyVersion: d.policyVersion,
    bin: d.bin,
    estimator: d.estimator,
    exploration,
    strategy: arm.spec,
    config: arm.config,
    capTokens: d.budget,
    capFrom: d.budgetFrom,
    evidence: { accuracy: e.accuracy, lo: e.lo, hi: e.hi, count: e.count, meanTokens: e.meanCost, highTokens: e.highCost },
  };
}
