/**
 * Fitting a policy from labelled outcomes, and measuring one on problems it was not fitted on. Pure: the
 * data in (prompts, pass@1 labels, and every candidate configuration's correctness and cost per problem),
 * a policy document or a curve out.
 */
import type { StrategySpec } from "../engine/strategies";
import { binOf, fitRidge, passLogit, predictFeatures } from "./estimator";
import { featureNames, promptFeatures } from "./features";
import { choosePolicyArm } from "./choose";
import type { PolicyArm, PolicyDocument } from "./document";
import { PROBE_FEATURES } from "./probe";

export interface CandidateConfig {
  config: string;
  spec: StrategySpec;
}

/** Outcomes of every candidate configuration on a set of problems. */
export interface OutcomeData {
  prompts: string[];
  /** Base-model pass@1 per problem, from `oracleSamples` samples. */
  passAt1: number[];
  oracleSamples: number;
  configs: CandidateConfig[];
  /** [config][problem] */
  correct: Uint8Array[];
  tokens: Float64Array[];
  generations: Float64Array[];
  /**
   * A verifier probe run on every problem: its features and what it cost (tokens) per problem. When its
   * samples are the first of the problem's best-of-N pool (`reusable`), a best-of-N arm that takes them as
   * candidates does not pay for them again: `reusable` is what that saves (completion and scoring tokens).
   */
  probe?: { samples: number; temperature: number; features: number[][]; tokens: Float64Array; reusable?: { completion: Float64Array; scoring: Float64Array } };
}

export const BINS = 5;
const STEPS_PER_DOUBLING = 4;

function wilson(k: number, n: number): { lo: number; hi: number } {
  const z = 1.959963984540054;
  if (n === 0) return { lo: 0, hi: 1 };
  const p = k / n;
  const d = 1 + (z * z) / n;
  const c = (p + (z * z) / (2 * n)) / d;
  const h = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
  return { lo: Math.max(0, c - h), hi: Math.min(1, c + h) };
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] as number;
}

/** Geometric cost budgets 2^(k/4) from the cheapest to the dearest configuration's mean cost. */
export function costBudgets(lo: number, hi: number): number[] {
  const out: number[] = [];
  if (!(lo > 0) || !(hi >= lo)) return out;
  for (let k = Math.floor(STEPS_PER_DOUBLING * Math.log2(lo)); k <= Math.ceil(STEPS_PER_DOUBLING * Math.log2(hi)); k++) out.push(2 ** (k / STEPS_PER_DOUBLING));
  return out;
}

/**
 * Per bin and cost budget C: among configurations whose mean cost on the bin's problems is at most C, the
 * most accurate (the cheaper on a tie). Consecutive budgets that keep the same choice give one arm.
 */
export function fitArms(data: OutcomeData, bins: readonly number[]): PolicyArm[] {
  const arms: PolicyArm[] = [];
  for (let bin = 1; bin <= BINS; bin++) {
    const members = bins.map((b, i) => (b === bin ? i : -1)).filter((i) => i >= 0);
    if (members.length === 0) continue;
    const stats = data.configs.map((cfg, c) => {
      const correct = data.correct[c] as Uint8Array;
      const tokens = data.tokens[c] as Float64Array;
      const gens = data.generations[c] as Float64Array;
      let k = 0;
      let cost = 0;
      let g = 0;
      const costs: number[] = [];
      for (const i of members) {
        k += correct[i] as number;
        cost += tokens[i] as number;
        g += gens[i] as number;
        costs.push(tokens[i] as number);
      }
      costs.sort((a, b) => a - b);
      return { c, cfg, k, n: members.length, meanCost: cost / members.length, highCost: quantile(costs, 0.9), meanGenerations: g / members.length };
    });
    const byCost = [...stats].sort((a, b) => a.meanCost - b.meanCost || a.c - b.c);
    const budgets = costBudgets((byCost[0] as (typeof stats)[number]).meanCost, (byCost[byCost.length - 1] as (typeof stats)[number]).meanCost);
    let last = -1;
    let p = 0;
    let top: (typeof stats)[number] | undefined;
    for (const budget of budgets) {
      while (p < byCost.length && (byCost[p] as (typeof stats)[number]).meanCost <= budget * (1 + 1e-9)) {
        const s = byCost[p] as (typeof stats)[number];
        if (!top || s.k > top.k) top = s;
        p++;
      }
      if (!top) continue;
      // One-standard-error rule: the cheapest affordable configuration whose accuracy is within one standard
      // error of the best's. With ~100 problems a bin, the best of ~150 configurations is partly luck, and a
      // dearer configuration should win only by more than noise.
      const acc = top.k / top.n;
      const se = Math.sqrt(Math.max(acc * (1 - acc), 1 / top.n) / top.n);
      const best = byCost.slice(0, p).find((x) => x.k / x.n >= acc - se) ?? top;
      if (best.c === last) continue;
      last = best.c;
      const { lo, hi } = wilson(best.k, best.n);
      arms.push({
        bin,
        budget,
        config: best.cfg.config,
        spec: best.cfg.spec,
        evidence: { accuracy: best.k / best.n, lo, hi, count: best.n, meanCost: best.meanCost, highCost: best.highCost, meanGenerations: best.meanGenerations },
      });
    }
  }
  return arms;
}

/** Equal-count bins of predicted logits: the 20/40/60/80% quantiles, ascending. */
function thresholdsOf(z: readonly number[]): number[] {
  const sorted = [...z].sort((a, b) => a - b);
  return [0.2, 0.4, 0.6, 0.8].map((q) => quantile(sorted, q));
}

export interface FitOptions {
  seed: number;
  version: string;
  createdAt: string;
  source: PolicyDocument["source"];
}

function estimatorInputs(data: OutcomeData): number[][] {
  return data.prompts.map((p, i) => [...promptFeatures(p), ...(data.probe ? (data.probe.features[i] as number[]) : [])]);
}

/** Fit the estimator on the pass@1 labels, bin the problems by its predictions, and fit the arms per bin. */
export function fitPolicy(data: OutcomeData, options: FitOptions): PolicyDocument {
  const X = estimatorInputs(data);
  const y = data.passAt1.map((p) => passLogit(p, data.oracleSamples));
  const { model, cvError } = fitRidge(X, y, options.seed);
  const z = X.map((x) => predictFeatures(model, x));
  const thresholds = thresholdsOf(z);
  const bins = z.map((v) => binOf(v, thresholds));
  const arms = fitArms(data, bins);
  const policy: PolicyDocument = {
    format: "ttc-policy/1",
    version: options.version,
    createdAt: options.createdAt,
    source: options.source,
    costUnit: "tokens",
    probe: data.probe ? { samples: data.probe.samples, temperature: data.probe.temperature } : null,
    estimator: { kind: "ridge-text", features: [...featureNames(), ...(data.probe ? PROBE_FEATURES : [])], means: model.means, scales: model.scales, weights: model.weights, bias: model.bias, lambda: model.lambda, thresholds, cvError },
    defaultBudget: 1,
    arms,
  };
  policy.defaultBudget = defaultBudgetOf(policy, data);
  return policy;
}

/** One point of a policy's curve: with every request capped at `cap`, accuracy and mean spend per problem. */
export interface CurvePoint {
  cap: number;
  accuracy: number;
  lo: number;
  hi: number;
  meanTokens: number;
  meanGenerations: number;
}

/**
 * A policy applied to problems with known outcomes: for each cap, each problem gets the arm the policy
 * chooses from its text alone, and the outcome that configuration had on it. Arms whose configuration is
 * not among the data's are an error.
 */
export function policyCurve(policy: PolicyDocument, data: OutcomeData, caps: readonly number[]): CurvePoint[] {
  const index = new Map(data.configs.map((c, i) => [c.config, i]));
  return caps.map((cap) => {
    let k = 0;
    let tokens = 0;
    let gens = 0;
    data.prompts.forEach((prompt, i) => {
      let probe: { features: number[]; spent: number } | undefined;
      if (policy.probe) {
        if (!data.probe || data.probe.samples !== policy.probe.samples) throw new Error(`policy ${policy.version} needs a probe of ${policy.probe.samples} samples in the data`);
        probe = { features: data.probe.features[i] as number[], spent: data.probe.tokens[i] as number };
        // The probe is paid for on every problem, whatever the arm (counted in full: its samples are not credited to the arm).
        tokens += probe.spent;
        gens += policy.probe.samples;
      }
      const { arm } = choosePolicyArm(policy, prompt, cap, probe);
      const c = index.get(arm.config);
      if (c === undefined) throw new Error(`policy arm ${arm.config} is not among the measured configurations`);
      k += (data.correct[c] as Uint8Array)[i] as number;
      tokens += (data.tokens[c] as Float64Array)[i] as number;
      gens += (data.generations[c] as Float64Array)[i] as number;
      // A fixed best-of-N arm takes the probe's samples as candidates and samples and scores only the rest.
      // The probe's samples are the first of the pool the sweep measured this arm on, and the rest are fresh
      // independent samples, so the measured outcome is a draw from the same distribution.
      const reuse = policy.probe && data.probe?.reusable;
      if (reuse && arm.spec.strategy === "best-of-n" && arm.spec.stopAt === undefined && arm.spec.n >= policy.probe!.samples) {
        tokens -= (reuse.completion[i] as number) + (arm.spec.selection === "majority" ? 0 : (reuse.scoring[i] as number));
        gens -= policy.probe!.samples;
      }
    });
    const n = data.prompts.length;
    const { lo, hi } = wilson(k, n);
    return { cap, accuracy: k / n, lo, hi, meanTokens: tokens / n, meanGenerations: gens / n };
  });
}

/**
 * The default cap: the smallest at which the policy's own curve on the calibration problems reaches 99% of
 * the best accuracy it attains at any cap, so a request without a budget pays for what helps.
 */
function defaultBudgetOf(policy: PolicyDocument, data: OutcomeData): number {
  const highs = policy.arms.map((a) => a.evidence.highCost);
  const caps = costBudgets(Math.min(...highs), Math.max(...highs) * 1.0001);
  const curve = policyCurve(policy, data, caps);
  const top = Math.max(...curve.map((p) => p.accuracy));
  return (curve.find((p) => p.accuracy >= 0.99 * top) ?? (curve[curve.length - 1] as CurvePoint)).cap;
}
