/**
 * Choosing compute for one prompt from a policy: estimate its difficulty from the text, then take the
 * bin's best arm that fits the caller's budget. Pure and cheap: no provider call.
 */
import { generationCost, type StrategySpec } from "../engine/strategies";
import { binOf, predictFeatures, type RidgeModel } from "./estimator";
import { promptFeatures } from "./features";
import { armTokens, type PolicyArm, type PolicyDocument } from "./document";

export interface PolicyDecision {
  /** Predicted difficulty bin, 1 (easiest) … 5, and the estimator that predicted it. */
  bin: number;
  estimator: "free" | "probe";
  /** Predicted logit of the base model's pass@1 (higher is easier). */
  predictedLogit: number;
  policyVersion: string;
  arm: PolicyArm;
  /** The cost budget the arm was chosen for (in the policy's unit), and what bounded it. */
  budget: number;
  budgetFrom: "request" | "policy default";
  /** The token cap the arm was chosen within too, when the policy's unit is not tokens. */
  tokenCap?: number;
}

/**
 * What the verifier probe found: its features and what it spent (tokens; probing policies are in tokens). `imputed`: the probe did not run
 * (the cap could not afford it) and `features` are the calibration means, which add nothing to the
 * standardised ridge prediction: the choice is the text's alone, and the estimator is `free`.
 */
export interface ProbeInput {
  features: number[];
  spent: number;
  imputed?: boolean;
}

/** Samples the probe drew (0 when it did not run): they count toward the solve's generations. */
export function probeSamplesSpent(policy: PolicyDocument, probe: ProbeInput | undefined): number {
  return policy.probe && probe && !probe.imputed ? policy.probe.samples : 0;
}

/**
 * Generations an arm's solve spends in all after a probe of `probeSamples` samples: best-of-N takes the
 * probe's samples as its first candidates (they count toward N), any other arm spends its own on top.
 */
export function generationsWithProbe(spec: StrategySpec, probeSamples: number): number {
  if (probeSamples === 0) return generationCost(spec);
  if (spec.strategy === "best-of-n") return Math.max(spec.n, probeSamples);
  return probeSamples + generationCost(spec);
}

function ridgeOf(policy: PolicyDocument): RidgeModel {
  const e = policy.estimator;
  return { means: e.means, scales: e.scales, weights: e.weights, bias: e.bias, lambda: e.lambda };
}

/**
 * The arm for a prompt: the bin's richest arm whose 90th-percentile cost on the calibration problems fits
 * under the cap (a cap is a hard limit, so the typical cost is not enough), or for a policy chosen under hard
 * caps (`armChoice: "cap"`) the arm chosen for the largest cap within it; the request's cap, or the
 * policy's default when it gives none. A policy in dollars or FLOPs is bounded by `tokenCap` too (its arms'
 * 90th-percentile tokens). When nothing fits, the bin's cheapest arm (the executor still stops at the caps).
 */
export function choosePolicyArm(
  policy: PolicyDocument,
  prompt: string,
  cap?: number,
  probe?: ProbeInput,
  maxGenerations?: number,
  tokenCap?: number,
): PolicyDecision {
  if (policy.probe && !probe)
    throw new Error(
      `policy ${policy.version} chooses after a verifier probe of ${policy.probe.samples} samples: run the probe first`,
    );
  const features = [...promptFeatures(prompt), ...(policy.probe && probe ? probe.features : [])];
  const probed = probeSamplesSpent(policy, probe);
  return chooseArmFor(policy, features, cap, probed ? (probe?.spent ?? 0) : 0, maxGenerations, probed, tokenCap);
}

/**
 * The limits an arm is chosen within, as one value: what is left of the cap in the policy's unit (a probe's
 * spend taken off), the token cap that bounds a policy in dollars or FLOPs too, the generation cap, and how
 * many samples a probe drew first (best-of-N takes them as candidates).
 */
export interface ChoiceLimits {
  budget: number;
  tokenCap?: number;
  maxGenerations?: number;
  probed: number;
}

/**
 * What an arm needs of the cap to be taken, in the policy's unit: under hard-cap arms (`armChoice: "cap"`) the
 * cap it was chosen for, else its 90th-percentile cost on the calibration problems (a cap is a hard limit, so
 * the typical cost is not enough).
 */
export function armNeeds(policy: PolicyDocument, arm: { budget?: number; evidence: { highCost: number } }): number {
  return policy.armChoice === "cap" && arm.budget !== undefined ? arm.budget : arm.evidence.highCost;
}

/** The arms of a bin whose generations (after `probed` probe samples) fit the generation cap, cheapest first. */
export function binArms(policy: PolicyDocument, bin: number, maxGenerations?: number, probed = 0): PolicyArm[] {
  return policy.arms
    .filter(
      (a) => a.bin === bin && (maxGenerations === undefined || generationsWithProbe(a.spec, probed) <= maxGenerations),
    )
    .sort((a, b) => a.budget - b.budget);
}

/**
 * The one rule that takes a bin's arm within limits (used by auto, the probe step, a dry run's forecast and
 * calibration's measurement): the richest arm whose needs fit the budget (and whose billed tokens fit a token
 * cap); when none fits, the bin's cheapest (the executor still stops at the caps). Arms over the generation cap
 * are out unless the bin has no other.
 */
export function armFor(policy: PolicyDocument, bin: number, limits: ChoiceLimits): PolicyArm | undefined {
  const affordable = binArms(policy, bin, limits.maxGenerations, limits.probed);
  const arms = affordable.length ? affordable : binArms(policy, bin);
  const tokens = policy.costUnit !== "tokens" && limits.tokenCap !== undefined ? limits.tokenCap : Infinity;
  const eligible = arms.filter(
    // Caps are compared with a hair of tolerance (they were computed, not typed); the 90th-percentile rule
    // compares exactly, as it always has.
    (a) =>
      armNeeds(policy, a) <= limits.budget * (policy.armChoice === "cap" ? 1 + 1e-9 : 1) &&
      armTokens(a.evidence).high <= tokens,
  );
  return eligible[eligible.length - 1] ?? arms[0];
}

/**
 * The same choice from the estimator's inputs (what D1 logs for an auto solve), so a re-tune can replay it.
 * `spent` is what a probe already spent, `probed` how many samples it drew (0: none ran).
 */
export function chooseArmFor(
  policy: PolicyDocument,
  features: readonly number[],
  cap: number | undefined,
  spent: number,
  maxGenerations?: number,
  probed = 0,
  tokenCap?: number,
): PolicyDecision {
  const z = predictFeatures(ridgeOf(policy), features);
  const bin = binOf(z, policy.estimator.thresholds);
  // What the probe spent is spent: the arm gets the rest of the cap.
  const limit = (cap ?? policy.defaultBudget) - spent;
  const tokens = policy.costUnit !== "tokens" && tokenCap !== undefined ? tokenCap : Infinity;
  const arm = armFor(policy, bin, {
    budget: limit,
    probed,
    ...(maxGenerations !== undefined ? { maxGenerations } : {}),
    ...(Number.isFinite(tokens) ? { tokenCap: tokens } : {}),
  });
  if (!arm) throw new Error(`policy ${policy.version} has no arm for difficulty bin ${bin}`);
  return {
    bin,
    estimator: probed ? "probe" : "free",
    predictedLogit: z,
    policyVersion: policy.version,
    arm,
    budget: limit,
    budgetFrom: cap !== undefined ? "request" : "policy default",
    ...(Number.isFinite(tokens) ? { tokenCap: tokens } : {}),
  };
}
