/**
 * Re-tuning a policy from logged outcomes (auto solves with feedback), and deciding whether the re-tuned
 * version may replace the active one. Pure: outcomes and the active policy in, a candidate document and the
 * cross-validated comparison out. The D1 job (`src/policyVersions/retuneJob.ts`) stores and promotes.
 *
 * - The estimator is refitted as a logistic model of "the solve was right" on the logged features, with one
 *   offset per configuration (the logs are not pass@1 labels: each prompt ran one configuration).
 * - Bins are its equal-count quantiles; per bin and configuration the observed accuracy and cost are pooled
 *   with the active policy's evidence for that bin as a prior of at most `priorWeight` pseudo-outcomes, so a
 *   little data moves the policy a little and much data decides.
 * - Arms are chosen per bin exactly as a calibration chooses them (`chooseBinArms`). Configurations not chosen
 *   and not yet measured `exploreUntil` times in the bin stay listed as alternatives, for exploration to try.
 * - Promotion: two-fold cross-validation by replay (Li et al., 2011): a policy fitted on one half is scored on
 *   the other half's outcomes whose logged configuration it would have chosen at the logged cap, and the active
 *   policy is scored the same way on the same halves. The candidate wins if its accuracy per token is not lower
 *   and its accuracy is not lower by more than one standard error.
 */
import { formatAmount, type CostUnit } from "../engine/meter";
import { describeSpec, type StrategySpec } from "../engine/strategies";
import { hashString } from "../engine/random";
import { chooseArmFor } from "./choose";
import { armTokens, parsePolicy, type PolicyAlternative, type PolicyArm, type PolicyDocument } from "./document";
import { binOf, fitOutcomeEstimator, predictFeatures } from "./estimator";
import { BINS, chooseBinArms, quantile, thresholdsOf, type ArmStats } from "./fit";

/** One auto solve with a reported outcome, as D1 logs it. */
export interface LoggedOutcome {
  solveId: string;
  /** The estimator inputs logged with the solve. */
  features: number[];
  spec: StrategySpec;
  /** What it spent: billed tokens, dollars, FLOPs, generations. */
  tokens: number;
  money: number;
  flops: number;
  generations: number;
  correct: boolean;
  /** The token cap the choice was made within; null for rows logged before it was recorded. */
  capTokens: number | null;
  /** The cap in the policy's unit, for a policy in dollars or FLOPs (null for one in tokens: `capTokens`). */
  capCost: number | null;
  maxGenerations: number | null;
  exploration: boolean;
  /** The probability the logged configuration had of being run (null for rows logged before it was: taken as 1). */
  propensity: number | null;
}

export interface RetuneOptions {
  version: string;
  createdAt: string;
  seed: number;
  /** Fewer labelled outcomes than this: no refit (a clear refusal, no new version). */
  minOutcomes: number;
  /**
   * The policy whose evidence is the refit's prior, when it is not the active one the candidate is compared
   * with: a tenant's re-tune learns with the global policy as its prior and competes with the tenant's own
   * active version (docs/policy-isolation.md). Its features must be the active policy's.
   */
  prior?: PolicyDocument;
  /** Most pseudo-outcomes the active policy's evidence for an arm counts as (default 8). */
  priorWeight?: number;
  /** Outcomes in a bin after which a configuration not chosen there is no longer offered to exploration (default 30). */
  exploreUntil?: number;
  /** Outcomes in a bin a configuration without the active policy's evidence needs before it can be an arm (default 10). */
  minArmEvidence?: number;
  /** Fewest replayed outcomes each side needs for a comparison (default 30). */
  minReplayed?: number;
}

export interface ReplayScore {
  /** Held-out outcomes whose logged configuration this policy would have chosen. */
  replayed: number;
  /** Their effective number once weighted by 1 / propensity ((Σw)² / Σw²): what the comparison's variance uses. */
  effective: number;
  accuracy: number;
  meanTokens: number;
  /** Mean cost in the policy's unit (the same as meanTokens for a policy in tokens): what the promotion rule compares. */
  meanCost: number;
  /** Accuracy per 1,000 tokens. */
  accuracyPerKTokens: number;
}

/** What a logged solve cost in a unit. */
function costOf(r: LoggedOutcome, unit: CostUnit): number {
  return r[unit];
}

/** The choice a policy would have made for a logged solve, at the caps it was logged with. */
function replayChoice(policy: PolicyDocument, r: LoggedOutcome): StrategySpec {
  const cap = policy.costUnit === "tokens" ? r.capTokens : r.capCost;
  return chooseArmFor(
    policy,
    r.features,
    cap ?? undefined,
    0,
    r.maxGenerations ?? undefined,
    0,
    r.capTokens ?? undefined,
  ).arm.spec;
}

export interface PolicyEvaluation {
  method: "two-fold replay";
  outcomes: number;
  active: ReplayScore;
  candidate: ReplayScore;
}

export type RetuneResult =
  | { ok: false; outcomes: number; reason: string }
  | {
      ok: true;
      outcomes: number;
      candidate: PolicyDocument;
      evaluation: PolicyEvaluation;
      promote: boolean;
      reason: string;
    };

/** A strategy spec's identity, independent of key order. */
export function specKey(spec: StrategySpec): string {
  const sorted = (v: unknown): unknown =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([k, x]) => [k, sorted(x)]),
        )
      : v;
  return JSON.stringify(sorted(spec));
}

/** Refit the estimator and every bin's arms from outcomes, with `active` as the prior. Needs ≥ 4 outcomes. */
export function fitFromOutcomes(
  active: PolicyDocument,
  rows: readonly LoggedOutcome[],
  options: Pick<RetuneOptions, "version" | "createdAt" | "seed" | "priorWeight" | "exploreUntil" | "minArmEvidence">,
): PolicyDocument {
  const unit = active.costUnit;
  const priorWeight = options.priorWeight ?? 8;
  const exploreUntil = options.exploreUntil ?? 30;
  const minArmEvidence = options.minArmEvidence ?? 10;
  const keys = new Map<string, { index: number; spec: StrategySpec }>();
  const groups = rows.map((r) => {
    const key = specKey(r.spec);
    let g = keys.get(key);
    if (!g) keys.set(key, (g = { index: keys.size, spec: r.spec }));
    return g.index;
  });
  const fitted = fitOutcomeEstimator(
    rows.map((r) => r.features),
    groups,
    rows.map((r) => (r.correct ? 1 : 0)),
    options.seed,
  );
  const z = rows.map((r) => predictFeatures(fitted.model, r.features));
  const thresholds = thresholdsOf(z);
  const bins = z.map((v) => binOf(v, thresholds));

  // A configuration's accuracy over every bin: the weak prior for one the active policy has no evidence on.
  const pooled = new Map<string, { k: number; n: number }>();
  rows.forEach((r) => {
    const p = pooled.get(specKey(r.spec)) ?? { k: 0, n: 0 };
    pooled.set(specKey(r.spec), { k: p.k + (r.correct ? 1 : 0), n: p.n + 1 });
  });

  const arms: PolicyArm[] = [];
  const alternatives: PolicyAlternative[] = [];
  for (let bin = 1; bin <= BINS; bin++) {
    const seen = new Map<string, { spec: StrategySpec; k: number; costs: number[]; tokens: number[]; gens: number }>();
    rows.forEach((r, i) => {
      if (bins[i] !== bin) return;
      const key = specKey(r.spec);
      const s = seen.get(key) ?? { spec: r.spec, k: 0, costs: [], tokens: [], gens: 0 };
      s.k += r.correct ? 1 : 0;
      s.costs.push(costOf(r, unit));
      s.tokens.push(r.tokens);
      s.gens += r.generations;
      seen.set(key, s);
    });
    const prior = new Map(active.arms.filter((a) => a.bin === bin).map((a) => [specKey(a.spec), a]));
    // Alternatives carry a measured cost but no accuracy: a cost prior only.
    const untried = new Map(active.alternatives.filter((a) => a.bin === bin).map((a) => [specKey(a.spec), a]));
    const stats: (ArmStats & { seen: number; eligible: boolean })[] = [];
    for (const key of new Set([...prior.keys(), ...untried.keys(), ...seen.keys()])) {
      const s = seen.get(key);
      const a = prior.get(key);
      const u = untried.get(key);
      const n = s?.costs.length ?? 0;
      const spec = (s?.spec ?? a?.spec ?? u?.spec) as StrategySpec;
      const p = pooled.get(key);
      // The active policy's evidence counts as at most `priorWeight` outcomes; with none, a weak prior of 2
      // at the configuration's accuracy over all bins (or a coin), so an unmeasured configuration is not ranked as certain.
      const measured = a !== undefined && a.evidence.count > 0;
      let w = measured ? Math.min(a.evidence.count, priorWeight) : 0;
      let priorAccuracy = a ? a.evidence.accuracy : 0.5;
      if (w === 0) {
        w = 2;
        priorAccuracy = p ? (p.k + 1) / (p.n + 2) : 0.5;
      }
      const priorCost = a
        ? {
            mean: a.evidence.meanCost,
            high: a.evidence.highCost,
            gens: a.evidence.meanGenerations,
            meanTokens: armTokens(a.evidence).mean,
            highTokens: armTokens(a.evidence).high,
          }
        : u
          ? {
              mean: u.meanCost,
              high: u.highCost,
              gens: u.meanGenerations,
              meanTokens: u.meanTokens ?? u.meanCost,
              highTokens: u.highTokens ?? u.highCost,
            }
          : null;
      // Cost has a prior only where it was measured before; a configuration with no measured cost cannot be placed.
      const wc = priorCost ? Math.min(w, priorWeight) : 0;
      if (n + wc === 0) continue;
      // Mean with the prior's pseudo-outcomes; the 90th percentile observed, or the prior's while outcomes are few.
      const pooledCost = (xs: readonly number[], prior: { mean: number; high: number } | null) => {
        const sorted = [...xs].sort((x, y) => x - y);
        const seenMean = n ? sorted.reduce((x, y) => x + y, 0) / n : 0;
        const seenHigh = n ? quantile(sorted, 0.9) : 0;
        return {
          mean: (n * seenMean + wc * (prior?.mean ?? 0)) / (n + wc),
          high: n >= 10 || !prior ? seenHigh : Math.max(seenHigh, prior.high),
        };
      };
      const cost = pooledCost(s?.costs ?? [], priorCost);
      const tokens = pooledCost(
        s?.tokens ?? [],
        priorCost ? { mean: priorCost.meanTokens, high: priorCost.highTokens } : null,
      );
      const meanGenerations = ((s?.gens ?? 0) + wc * (priorCost?.gens ?? 0)) / (n + wc);
      stats.push({
        config: describeSpec(spec),
        spec,
        accuracy: ((s?.k ?? 0) + w * priorAccuracy) / (n + w),
        count: n + w,
        prior: w,
        meanCost: cost.mean,
        highCost: cost.high,
        meanGenerations,
        ...(unit !== "tokens" ? { meanTokens: tokens.mean, highTokens: tokens.high } : {}),
        seen: n,
        eligible: measured || n >= minArmEvidence,
      });
    }
    stats.sort((x, y) => x.config.localeCompare(y.config));
    // An arm needs evidence: the active policy's, or `minArmEvidence` outcomes here; the rest stay alternatives.
    const chosen = chooseBinArms(
      bin,
      stats.filter((st) => st.eligible),
    );
    const binArms = chosen.length ? chosen : active.arms.filter((a) => a.bin === bin);
    arms.push(...binArms);
    // What was not chosen and is not yet well measured in this bin stays to be explored; the rest is known to lose.
    const picked = new Set(binArms.map((a) => specKey(a.spec)));
    for (const st of stats) {
      if (picked.has(specKey(st.spec)) || st.seen >= exploreUntil) continue;
      alternatives.push({
        bin,
        config: st.config,
        spec: st.spec,
        count: st.seen,
        meanCost: st.meanCost,
        highCost: st.highCost,
        meanGenerations: st.meanGenerations,
        ...(st.meanTokens !== undefined && st.highTokens !== undefined
          ? { meanTokens: st.meanTokens, highTokens: st.highTokens }
          : {}),
      });
    }
  }

  const doc: PolicyDocument = {
    format: "ttc-policy/1",
    version: options.version,
    createdAt: options.createdAt,
    source: {
      kind: "retune",
      dataset: `${rows.length} labelled auto solves (D1)`,
      seed: options.seed,
      problems: rows.length,
      oracleSamples: 1,
      command: `retune of ${active.version}`,
    },
    costUnit: unit,
    probe: active.probe,
    estimator: {
      kind: "logistic-outcome",
      features: active.estimator.features,
      means: fitted.model.means,
      scales: fitted.model.scales,
      weights: fitted.model.weights,
      bias: fitted.model.bias,
      lambda: fitted.model.lambda,
      thresholds,
      cvError: fitted.cvLogLoss,
    },
    defaultBudget: active.defaultBudget,
    arms,
    alternatives,
  };
  const checked = parsePolicy(doc);
  if (!checked.ok) throw new Error(`re-tuned policy does not validate: ${checked.error}`);
  return checked.policy;
}

interface ReplaySums {
  replayed: number;
  /** Sums of the weights, their squares, and the weighted outcomes, tokens and cost (in the policy's unit). */
  w: number;
  w2: number;
  k: number;
  tokens: number;
  cost: number;
}

function replaySums(policy: PolicyDocument, rows: readonly LoggedOutcome[]): ReplaySums {
  const sums = { replayed: 0, w: 0, w2: 0, k: 0, tokens: 0, cost: 0 };
  for (const r of rows) {
    if (specKey(replayChoice(policy, r)) !== specKey(r.spec)) continue;
    const weight = 1 / Math.min(1, Math.max(1e-3, r.propensity ?? 1));
    sums.replayed++;
    sums.w += weight;
    sums.w2 += weight * weight;
    sums.k += weight * (r.correct ? 1 : 0);
    sums.tokens += weight * r.tokens;
    sums.cost += weight * costOf(r, policy.costUnit);
  }
  return sums;
}

function scoreOf(parts: readonly ReplaySums[]): ReplayScore {
  const s = parts.reduce(
    (a, b) => ({
      replayed: a.replayed + b.replayed,
      w: a.w + b.w,
      w2: a.w2 + b.w2,
      k: a.k + b.k,
      tokens: a.tokens + b.tokens,
      cost: a.cost + b.cost,
    }),
    { replayed: 0, w: 0, w2: 0, k: 0, tokens: 0, cost: 0 },
  );
  const accuracy = s.w ? s.k / s.w : 0;
  const meanTokens = s.w ? s.tokens / s.w : 0;
  return {
    replayed: s.replayed,
    effective: s.w2 ? (s.w * s.w) / s.w2 : 0,
    accuracy,
    meanTokens,
    meanCost: s.w ? s.cost / s.w : 0,
    accuracyPerKTokens: meanTokens > 0 ? (1000 * accuracy) / meanTokens : 0,
  };
}

/**
 * Score a policy on outcomes by replay: those whose logged configuration it would have chosen at the logged
 * cap, each weighed by 1 / its logged propensity (self-normalised inverse propensity). Unweighted, a policy
 * would be scored mostly on the bins where it agrees with the one that logged, and an explored configuration's
 * outcomes would count as if it had been chosen as often as the policy's own.
 */
export function replay(policy: PolicyDocument, rows: readonly LoggedOutcome[]): ReplayScore {
  return scoreOf([replaySums(policy, rows)]);
}

/** Outcomes usable with `active`: features of its estimator's length (a row logged under another feature set is left out). */
export function usableOutcomes(active: PolicyDocument, rows: readonly LoggedOutcome[]): LoggedOutcome[] {
  const d = active.estimator.features.length;
  return rows.filter(
    (r) =>
      r.features.length === d &&
      r.features.every(Number.isFinite) &&
      Number.isFinite(costOf(r, active.costUnit)) &&
      Number.isFinite(r.tokens),
  );
}

/** Refit from outcomes, compare with the active policy by two-fold replay, and say whether to promote. */
export function retunePolicy(
  active: PolicyDocument,
  logged: readonly LoggedOutcome[],
  options: RetuneOptions,
): RetuneResult {
  const prior = options.prior ?? active;
  if (prior.estimator.features.join() !== active.estimator.features.join())
    throw new Error(`the prior ${prior.version} and the active policy ${active.version} have different features`);
  const rows = usableOutcomes(active, logged);
  if (rows.length < options.minOutcomes) {
    const left = logged.length - rows.length;
    return {
      ok: false,
      outcomes: rows.length,
      reason: `a re-tune needs at least ${options.minOutcomes} labelled outcomes of auto solves; there are ${rows.length}${left ? ` (${left} more logged with other features)` : ""}`,
    };
  }
  const minReplayed = options.minReplayed ?? 30;
  // Folds by solve id alone: the split does not depend on the order D1 returns rows in, and the same outcomes
  // are compared the same way by every re-tune.
  const fold = rows.map((r) => hashString(r.solveId) % 2);
  const held: LoggedOutcome[][] = [];
  const fitted: PolicyDocument[] = [];
  for (let f = 0; f < 2; f++) {
    const train = rows.filter((_, i) => fold[i] !== f);
    const test = rows.filter((_, i) => fold[i] === f);
    if (train.length < 4 || test.length === 0) continue;
    fitted.push(fitFromOutcomes(prior, train, { ...options, seed: options.seed + f + 1 }));
    held.push(test);
  }
  const evaluation: PolicyEvaluation = {
    method: "two-fold replay",
    outcomes: rows.length,
    // Each fold's candidate on its own held-out half, the active policy on both halves, pooled as one replay.
    active: scoreOf(held.map((test) => replaySums(active, test))),
    candidate: scoreOf(held.map((test, f) => replaySums(fitted[f] as PolicyDocument, test))),
  };
  const candidate = fitFromOutcomes(prior, rows, options);
  // The version promoted is fitted on all outcomes and can differ from the folds' fits when data are few: it must
  // also pass the same comparison on all outcomes (in sample, so optimistic; the folds guard against that).
  const whole = { active: replay(active, rows), candidate: replay(candidate, rows) };
  const a = evaluation.active;
  const c = evaluation.candidate;
  const fmt = (s: ReplayScore) =>
    `${(100 * s.accuracy).toFixed(1)}% at ${formatAmount(active.costUnit, s.meanCost)} (${s.replayed} replayed, ${Math.round(s.effective)} effective)`;
  let promote = false;
  let reason: string;
  const changed = rows.filter((r) => specKey(replayChoice(candidate, r)) !== specKey(replayChoice(active, r))).length;
  if (changed === 0) {
    reason = `no change: the refit chooses as the active policy does on all ${rows.length} logged outcomes`;
  } else if (a.effective < minReplayed || c.effective < minReplayed || whole.candidate.effective < minReplayed) {
    reason = `too little overlap to compare: the held-out outcomes replay ${Math.round(a.effective)} effective choices of the active policy and ${Math.round(c.effective)} of the candidate (all outcomes: ${Math.round(whole.candidate.effective)} of the version fitted on them); each needs ${minReplayed}`;
  } else {
    const decided = compareReplays(a, c);
    const inSample = compareReplays(whole.active, whole.candidate);
    promote = decided.promote && inSample.promote;
    reason =
      decided.promote && !inSample.promote
        ? `the folds' fits pass (${decided.reason}) but the version fitted on all outcomes does not: ${inSample.reason}: it ${fmt(whole.candidate)} against active ${fmt(whole.active)}`
        : `${decided.reason}: candidate ${fmt(c)} against active ${fmt(a)}`;
  }
  return { ok: true, outcomes: rows.length, candidate, evaluation, promote, reason };
}

/** Accuracy points a cheaper candidate may lose and still count as not worse (the non-inferiority margin). */
export const NON_INFERIORITY_MARGIN = 0.03;

/**
 * The promotion rule on two replay scores (each with enough replayed outcomes). Accuracy per token alone would
 * always favour the cheapest arm, so "not worse per unit of cost" is read at matched cost:
 * - a candidate that spends no more per solve must be non-inferior in accuracy: the one-sided 95% lower bound
 *   of (candidate − active) at least −3 points (standard error of the difference of two proportions);
 * - a candidate that spends more must be more accurate: that lower bound above 0.
 * Too few outcomes to show either is a refusal, not a coin toss: the active policy stays.
 */
export function compareReplays(a: ReplayScore, c: ReplayScore): { promote: boolean; reason: string } {
  // Weighted outcomes count as their effective number.
  const v = (s: ReplayScore) => Math.max(s.accuracy * (1 - s.accuracy), 1 / s.effective) / s.effective;
  const lower = c.accuracy - a.accuracy - 1.645 * Math.sqrt(v(a) + v(c));
  const pts = (x: number) => `${(100 * x).toFixed(1)} pts`;
  if (c.meanCost <= a.meanCost) {
    if (lower >= -NON_INFERIORITY_MARGIN)
      return {
        promote: true,
        reason: `no dearer and not less accurate (lower bound of the accuracy difference ${pts(lower)}, margin −${pts(NON_INFERIORITY_MARGIN)})`,
      };
    return {
      promote: false,
      reason: `cheaper, but not shown to be as accurate (lower bound of the accuracy difference ${pts(lower)}, needs −${pts(NON_INFERIORITY_MARGIN)} or better)`,
    };
  }
  if (lower > 0)
    return { promote: true, reason: `dearer and more accurate (lower bound of the accuracy gain ${pts(lower)})` };
  return {
    promote: false,
    reason: `dearer without a shown gain in accuracy (lower bound of the difference ${pts(lower)})`,
  };
}
