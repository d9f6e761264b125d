/**
 * The headline statistic of a calibration (issue 20): at each budget B in the policy's cost unit, the policy's
 * accuracy on held-out problems minus the accuracy of the best FIXED configuration of the grid whose runs fit
 * B (any strategy and hyperparameters, best-of-N and majority at every N), "best" chosen on the fit seeds
 * only. Budgets are hard caps: a run that gives no answer or spends more than B counts as a failure, for the
 * policy (its probe included) and for the fixed configuration alike. The interval is a 90% paired bootstrap
 * over problems (the same resampled problems on both sides), stratified by held-out seed and pooled.
 *
 * The efficiency ratio is secondary: the mean cost at which the whole best-of-N frontier (weighted and
 * majority, every N) first reaches best-of-N@64's accuracy over the mean cost at which the policy does, on
 * the pooled held-out problems, with its bootstrap interval (a resample where the policy never reaches it
 * counts as 0).
 *
 * Pure: outcome data in, figures out. The probe is modelled as the service runs it: skipped (the text decides
 * alone) when the cap cannot afford it (src/policy/probeStep.ts `probeAffordable`).
 */
import { choosePolicyArm, type ProbeInput } from "../policy/choose";
import type { CostUnit } from "../engine/meter";
import type { PolicyDocument } from "../policy/document";
import { costsIn, type OutcomeData } from "../policy/fit";
import { imputedProbe, probeAffordable } from "../policy/probeStep";
import { quantileBins } from "./stats";

export interface Interval {
  estimate: number;
  low: number;
  high: number;
}

export interface HeadlineBudget {
  budget: number;
  /** Policy minus best fixed configuration, percentage points, with its 90% paired bootstrap interval. */
  deltaPoints: Interval;
  policyAccuracy: number;
  baselineAccuracy: number;
  /** The fixed configuration chosen on the fit seeds (per held-out pair; the most frequent first). */
  baselineConfig: string;
  baselineConfigs: string[];
  /**
   * The most choosing per difficulty could add here, in points (`perBinBound` on the held-out problems,
   * pooled): an optimistic bound, no interval. A gain the world does not offer no policy can show.
   */
  oracleBoundPoints: number;
}

export interface Headline {
  unit: CostUnit;
  baseline: string;
  resamples: number;
  confidence: number;
  heldOutProblems: number;
  pairs: { fit: number[]; heldOut: number }[];
  budgets: HeadlineBudget[];
}

/** Per problem: whether the run succeeded within the cap (answered, right, cost <= cap) and what it spent. */
export interface CappedRun {
  success: Uint8Array;
  cost: Float64Array;
}

/** One configuration under a hard cap: right AND within the cap (a run over the cap counts as a failure). */
export function cappedConfig(data: OutcomeData, unit: CostUnit, c: number, cap: number): CappedRun {
  const correct = data.correct[c] as Uint8Array;
  const cost = costsIn(data, unit)[c] as Float64Array;
  const success = new Uint8Array(correct.length);
  for (let i = 0; i < correct.length; i++) success[i] = correct[i] && (cost[i] as number) <= cap * (1 + 1e-9) ? 1 : 0;
  return { success, cost: Float64Array.from(cost) };
}

const mean = (xs: ArrayLike<number>): number => {
  let t = 0;
  for (let i = 0; i < xs.length; i++) t += xs[i] as number;
  return xs.length ? t / xs.length : 0;
};

/**
 * The best fixed configuration at a cap on (fit) data: the highest capped accuracy, the cheaper on a tie.
 * `keep` limits the candidates (e.g. the best-of-N frontier).
 */
export function bestFixed(
  data: OutcomeData,
  unit: CostUnit,
  cap: number,
  keep: (config: string) => boolean = () => true,
): { index: number; config: string; accuracy: number } {
  let best = { index: -1, config: "", accuracy: -1, cost: Infinity };
  data.configs.forEach((cfg, c) => {
    if (!keep(cfg.config)) return;
    const run = cappedConfig(data, unit, c, cap);
    const accuracy = mean(run.success);
    const cost = mean(run.cost);
    if (accuracy > best.accuracy + 1e-12 || (Math.abs(accuracy - best.accuracy) <= 1e-12 && cost < best.cost))
      best = { index: c, config: cfg.config, accuracy, cost };
  });
  if (best.index < 0) throw new Error("no candidate configuration for the baseline");
  return best;
}

/**
 * A policy run on problems with known outcomes under a hard cap, as the service runs it: the probe (when the
 * policy has one and the cap affords it; `probeWorst` is its worst-case tokens on a prompt), the arm chosen
 * within what is left, and the arm's measured outcome. A fixed best-of-N arm takes the probe's samples as its
 * first candidates (they are the first of the pool the sweep drew), so they are not paid twice.
 */
export function cappedPolicy(
  policy: PolicyDocument,
  data: OutcomeData,
  cap: number,
  probeWorst?: (prompt: string) => number,
): CappedRun {
  const index = new Map(data.configs.map((c, i) => [c.config, i]));
  const costs = costsIn(data, policy.costUnit);
  const n = data.prompts.length;
  const success = new Uint8Array(n);
  const cost = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const prompt = data.prompts[i] as string;
    let probe: ProbeInput | undefined;
    let spent = 0;
    let reuse = 0;
    if (policy.probe) {
      if (!data.probe || data.probe.samples !== policy.probe.samples)
        throw new Error(`policy ${policy.version} needs a probe of ${policy.probe.samples} samples in the data`);
      const worst = probeWorst ? probeWorst(prompt) : 0;
      if (probeAffordable(policy, cap, undefined, worst).ok) {
        spent = data.probe.tokens[i] as number;
        probe = { features: data.probe.features[i] as number[], spent };
      } else probe = imputedProbe(policy);
    }
    const { arm } = choosePolicyArm(policy, prompt, cap, probe);
    const c = index.get(arm.config);
    if (c === undefined) throw new Error(`policy arm ${arm.config} is not among the measured configurations`);
    const reusable = data.probe?.reusable;
    if (
      spent > 0 &&
      reusable &&
      policy.probe &&
      arm.spec.strategy === "best-of-n" &&
      arm.spec.stopAt === undefined &&
      arm.spec.n >= policy.probe.samples
    )
      reuse =
        (reusable.completion[i] as number) + (arm.spec.selection === "majority" ? 0 : (reusable.scoring[i] as number));
    const total = spent + ((costs[c] as Float64Array)[i] as number) - reuse;
    cost[i] = total;
    success[i] = (data.correct[c] as Uint8Array)[i] && total <= cap * (1 + 1e-9) ? 1 : 0;
  }
  return { success, cost };
}

const worstFor = (
  policy: PolicyDocument,
  probeWorst: ((policy: PolicyDocument, prompt: string) => number) | undefined,
): ((prompt: string) => number) | undefined => (probeWorst ? (prompt) => probeWorst(policy, prompt) : undefined);

/**
 * An upper bound on what a policy choosing among 5 difficulty bins could gain over the best single
 * configuration at a cap, on some problems: they are binned by their true pass@1 (the oracle bins of the
 * evaluation, `quantileBins`), each bin takes its most accurate configuration at the cap, and the best single
 * configuration is chosen too, all on the same problems they are scored on. Optimistic twice over (perfect
 * difficulty, chosen in sample), so a policy's held-out gain is below it in expectation. Returns the gain as a
 * share (0.012 = 1.2 points).
 */
export function perBinBound(data: OutcomeData, unit: CostUnit, cap: number, bins = 5): number {
  const n = data.prompts.length;
  if (n === 0) return 0;
  const binOf = quantileBins(data.passAt1, bins);
  const runs = data.configs.map((_, c) => cappedConfig(data, unit, c, cap).success);
  const single = Math.max(...runs.map((run) => run.reduce((t, x) => t + x, 0)));
  let perBin = 0;
  for (let b = 1; b <= bins; b++) {
    let top = 0;
    for (const run of runs) {
      let k = 0;
      for (let i = 0; i < n; i++) if (binOf[i] === b) k += run[i] as number;
      top = Math.max(top, k);
    }
    perBin += top;
  }
  return (perBin - single) / n;
}

/** A small seeded PRNG (mulberry32): the bootstrap is reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Resampled problem indices: per group (held-out seed), as many draws with replacement as it has problems.
 * Both sides of a paired comparison use the same draws.
 */
export function bootstrapDraws(groupSizes: readonly number[], resamples: number, seed: number): Uint32Array[] {
  const random = rng(seed);
  const total = groupSizes.reduce((a, b) => a + b, 0);
  const draws: Uint32Array[] = [];
  for (let r = 0; r < resamples; r++) {
    const d = new Uint32Array(total);
    let k = 0;
    let offset = 0;
    for (const size of groupSizes) {
      for (let j = 0; j < size; j++) d[k++] = offset + Math.floor(random() * size);
      offset += size;
    }
    draws.push(d);
  }
  return draws;
}

/** The q-quantile of a sample (linear interpolation). */
export function quantileOf(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (s[lo] as number) + ((s[hi] as number) - (s[lo] as number)) * (pos - lo);
}

/** Paired bootstrap of mean(a) − mean(b) in percentage points over the same draws. */
export function pairedDelta(a: Uint8Array, b: Uint8Array, draws: readonly Uint32Array[], confidence: number): Interval {
  const diffs = draws.map((d) => {
    let t = 0;
    for (let k = 0; k < d.length; k++) t += ((a[d[k] as number] as number) - (b[d[k] as number] as number)) as number;
    return (100 * t) / d.length;
  });
  const tail = (1 - confidence) / 2;
  return {
    estimate: (100 * (mean(a) - mean(b))) as number,
    low: quantileOf(diffs, tail),
    high: quantileOf(diffs, 1 - tail),
  };
}

const concat = (parts: readonly Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((t, p) => t + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};

export interface HeldOutPair {
  fit: number[];
  heldOut: number;
  /** Fit seeds' outcomes (the baseline is chosen on these), and the held-out seed's. */
  fitData: OutcomeData;
  test: OutcomeData;
  /** The policy fitted on `fitData` (with the probe data attached as the policy needs). */
  policy: PolicyDocument;
  /** The held-out data with the policy's probe attached (when it has one). */
  policyTest: OutcomeData;
}

/** How the bootstrap runs, and how the policy's probe is bounded (the service's rule by default). */
export interface BootstrapOptions {
  resamples?: number;
  confidence?: number;
  seed?: number;
  probeWorst?: (policy: PolicyDocument, prompt: string) => number;
}

/** The headline over held-out pairs at the given budgets. */
export function headline(
  pairs: readonly HeldOutPair[],
  budgets: readonly number[],
  unit: CostUnit,
  options: BootstrapOptions = {},
): Headline {
  const resamples = options.resamples ?? 2000;
  const confidence = options.confidence ?? 0.9;
  const draws = bootstrapDraws(
    pairs.map((p) => p.test.prompts.length),
    resamples,
    options.seed ?? 20,
  );
  const rows = budgets.map((budget): HeadlineBudget => {
    const pol: Uint8Array[] = [];
    const base: Uint8Array[] = [];
    const chosen: string[] = [];
    let bound = 0;
    for (const p of pairs) {
      bound += perBinBound(p.test, unit, budget) * p.test.prompts.length;
      const best = bestFixed(p.fitData, unit, budget);
      chosen.push(best.config);
      const testIndex = p.test.configs.findIndex((c) => c.config === best.config);
      base.push(cappedConfig(p.test, unit, testIndex, budget).success);
      pol.push(cappedPolicy(p.policy, p.policyTest, budget, worstFor(p.policy, options.probeWorst)).success);
    }
    const a = concat(pol);
    const b = concat(base);
    const counts = new Map<string, number>();
    for (const c of chosen) counts.set(c, (counts.get(c) ?? 0) + 1);
    const byCount = [...counts.entries()].sort((x, y) => y[1] - x[1]).map(([c]) => c);
    return {
      budget,
      deltaPoints: pairedDelta(a, b, draws, confidence),
      policyAccuracy: mean(a),
      baselineAccuracy: mean(b),
      baselineConfig: byCount[0] as string,
      baselineConfigs: chosen,
      oracleBoundPoints: (100 * bound) / Math.max(1, a.length),
    };
  });
  return {
    unit,
    baseline:
      "best fixed configuration of the grid (any strategy and hyperparameters) whose runs fit the budget, chosen on the fit seeds only; over-cap or unanswered runs count as failures",
    resamples,
    confidence,
    heldOutProblems: pairs.reduce((t, p) => t + p.test.prompts.length, 0),
    pairs: pairs.map((p) => ({ fit: p.fit, heldOut: p.heldOut })),
    budgets: rows,
  };
}

export interface Efficiency {
  /** best-of-N@64 (weighted) accuracy on the pooled held-out problems: the target. */
  target: number;
  /** Cheapest mean cost at which the best-of-N frontier (any N, weighted or majority) reaches it. */
  frontierCost: number | null;
  /** Cheapest mean cost (over the caps) at which the policy reaches it, and the ratio, with its interval. */
  policyCost: number | null;
  ratio: Interval | null;
  /** Per held-out pair: the ratio, or null where the policy never reaches the target there. */
  perPair: (number | null)[];
}

/**
 * The secondary figure: cost-matched efficiency against the whole best-of-N frontier, uncapped configurations
 * on the best-of-N side (their mean cost) and the policy under each cap. Resamples where the policy never
 * reaches the target count as ratio 0.
 */
export function efficiency(
  pairs: readonly HeldOutPair[],
  caps: readonly number[],
  unit: CostUnit,
  options: BootstrapOptions = {},
): Efficiency {
  const resamples = options.resamples ?? 1000;
  const confidence = options.confidence ?? 0.9;
  const isBon = (c: { spec: { strategy: string; stopAt?: unknown } }) =>
    c.spec.strategy === "best-of-n" && c.spec.stopAt === undefined;
  const first = pairs[0]?.test as OutcomeData;
  const bonIdx = first.configs.map((c, i) => (isBon(c) ? i : -1)).filter((i) => i >= 0);
  const target64 = first.configs.findIndex(
    (c) => c.spec.strategy === "best-of-n" && c.spec.n === 64 && c.spec.selection === "weighted" && isBon(c),
  );
  const concatF = (parts: Float64Array[]): Float64Array => {
    const out = new Float64Array(parts.reduce((t, p) => t + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  };
  // Per configuration of the frontier: pooled per-problem correctness and cost.
  const bon = bonIdx.map((c) => ({
    correct: concat(pairs.map((p) => p.test.correct[c] as Uint8Array)),
    cost: concatF(pairs.map((p) => costsIn(p.test, unit)[c] as Float64Array)),
  }));
  const t64 = bonIdx.indexOf(target64);
  // The policy under each cap (over-cap runs are failures here too: the service stops them).
  const pol = caps.map((cap) => {
    const runs = pairs.map((p) => cappedPolicy(p.policy, p.policyTest, cap, worstFor(p.policy, options.probeWorst)));
    return { success: concat(runs.map((r) => r.success)), cost: concatF(runs.map((r) => r.cost)), runs };
  });
  const figures = (sample: (xs: ArrayLike<number>) => number) => {
    const target = sample((bon[t64] as (typeof bon)[number]).correct);
    let frontier: number | null = null;
    for (const b of bon)
      if (sample(b.correct) >= target - 1e-12) frontier = Math.min(frontier ?? Infinity, sample(b.cost));
    let policy: number | null = null;
    for (const p of pol) if (sample(p.success) >= target - 1e-12) policy = Math.min(policy ?? Infinity, sample(p.cost));
    return { target, frontier, policy };
  };
  const point = figures(mean);
  const draws = bootstrapDraws(
    pairs.map((p) => p.test.prompts.length),
    resamples,
    (options.seed ?? 20) + 1,
  );
  const ratios = draws.map((d) => {
    const f = figures((xs) => {
      let t = 0;
      for (let k = 0; k < d.length; k++) t += xs[d[k] as number] as number;
      return t / d.length;
    });
    return f.frontier !== null && f.policy !== null && f.policy > 0 ? f.frontier / f.policy : 0;
  });
  const tail = (1 - confidence) / 2;
  // Per pair, unpooled.
  let offset = 0;
  const perPair = pairs.map((p) => {
    const n = p.test.prompts.length;
    const slice = (xs: ArrayLike<number>) => {
      let t = 0;
      for (let i = offset; i < offset + n; i++) t += xs[i] as number;
      return t / n;
    };
    const f = figures(slice);
    offset += n;
    return f.frontier !== null && f.policy !== null && f.policy > 0 ? f.frontier / f.policy : null;
  });
  return {
    target: point.target,
    frontierCost: point.frontier,
    policyCost: point.policy,
    ratio:
      point.frontier !== null && point.policy !== null && point.policy > 0
        ? { estimate: point.frontier / point.policy, low: quantileOf(ratios, tail), high: quantileOf(ratios, 1 - tail) }
        : { estimate: 0, low: quantileOf(ratios, tail), high: quantileOf(ratios, 1 - tail) },
    perPair,
  };
}
