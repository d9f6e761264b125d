/**
 * `auto`: the strategy a policy chooses for one prompt within the caller's token cap, and the record of why
 * (what the API shows with the solve, and returns alone for a dry run).
 */
import type { StrategySpec } from "../engine/strategies";
import { choosePolicyArm } from "./choose";
import type { PolicyDocument } from "./document";

export interface AutoDecision {
  policyVersion: string;
  /** Predicted difficulty bin, 1 (easiest) … 5, and what predicted it. */
  bin: number;
  estimator: "free" | "probe";
  /** The configuration chosen, as a strategy spec and its label. */
  strategy: StrategySpec;
  config: string;
  /** The token cap the choice was made within, and where it came from. */
  capTokens: number;
  capFrom: "request" | "policy default";
  /** What the calibration measured for this choice on problems of this bin. */
  evidence: { accuracy: number; lo: number; hi: number; count: number; meanTokens: number; highTokens: number };
}

export function decideAuto(policy: PolicyDocument, prompt: string, capTokens?: number, maxGenerations?: number): AutoDecision {
  const d = choosePolicyArm(policy, prompt, capTokens, undefined, maxGenerations);
  const e = d.arm.evidence;
  return {
    policyVersion: d.policyVersion,
    bin: d.bin,
    estimator: d.estimator,
    strategy: d.arm.spec,
    config: d.arm.config,
    capTokens: d.budget,
    capFrom: d.budgetFrom,
    evidence: { accuracy: e.accuracy, lo: e.lo, hi: e.hi, count: e.count, meanTokens: e.meanCost, highTokens: e.highCost },
  };
}
