/**
 * Outcome data for fitting and measuring policies (src/policy/fit.ts `OutcomeData`), built from an
 * in-process sweep or from solves run through the service, and the small pieces both calibration and
 * measurement use: the candidate set calibrate sweeps by default, subsets, joining seeds, and the cost-matched
 * ratio. No Node API: the workerd tests use it too.
 */
import { describeSpec, runsOnLargeModel, type StrategySpec } from "../engine/strategies";
import type { CandidateConfig, OutcomeData } from "../policy/fit";
import { configsAt, DEFAULT_STRATEGIES, type StrategyEntry } from "./grid";
import type { ProblemResult } from "./sweep";

/** What `npm run calibrate` sweeps in process by default (verify-world's list, so the same cached sweeps). */
export const CALIBRATE_STRATEGIES = `${DEFAULT_STRATEGIES},revisions-majority`;
/**
 * Swept separately and joined problem by problem: none by default. Adaptive best-of-N
 * (`best-of-n-adaptive:c=95,best-of-n-adaptive:c=99`) was a default candidate until issue 20: under hard caps
 * neither the policy nor the best fixed configuration ever took it, on three worlds (docs/evidence.md).
 */
export const CALIBRATE_EXTRA = "";
/** The escalation candidates (the larger model, up to 16 samples), swept too when the policy is fitted in dollars or FLOPs. */
export const CALIBRATE_LARGE = "large,large-majority";

/** Every configuration of the entries at the budgets, by label (an entry/budget it cannot divide is an error). */
export function specsOf(
  entries: readonly StrategyEntry[],
  budgets: readonly number[],
): { ok: true; specs: Map<string, StrategySpec> } | { ok: false; error: string } {
  const specs = new Map<string, StrategySpec>();
  for (const entry of entries) {
    for (const budget of budgets) {
      const grid = configsAt(entry, budget);
      if (!grid.ok) return grid;
      for (const c of grid.configs) specs.set(describeSpec(c.spec), c.spec);
    }
  }
  return { ok: true, specs };
}

/** Outcome data from a sweep's per-problem records (the records' order is the configurations' order). */
export function outcomeData(
  results: readonly ProblemResult[],
  prompts: string[],
  oracleSamples: number,
  specs: Map<string, StrategySpec>,
): OutcomeData {
  const first = results[0]?.records ?? [];
  const configs: CandidateConfig[] = first.map((r) => {
    const spec = specs.get(r.config);
    if (!spec) throw new Error(`no spec for ${r.config}`);
    return { config: r.config, spec };
  });
  const n = results.length;
  const correct = configs.map(() => new Uint8Array(n));
  const tokens = configs.map(() => new Float64Array(n));
  const money = configs.map(() => new Float64Array(n));
  const flops = configs.map(() => new Float64Array(n));
  const generations = configs.map(() => new Float64Array(n));
  for (const r of results) {
    r.records.forEach((rec, c) => {
      (correct[c] as Uint8Array)[r.problem] = rec.correct ? 1 : 0;
      (tokens[c] as Float64Array)[r.problem] = rec.tokens;
      (money[c] as Float64Array)[r.problem] = rec.money;
      (flops[c] as Float64Array)[r.problem] = rec.flops;
      (generations[c] as Float64Array)[r.problem] = rec.generations;
    });
  }
  return {
    prompts,
    passAt1: results.map((r) => r.passAt1),
    oracleSamples,
    configs,
    correct,
    tokens,
    money,
    flops,
    generations,
  };
}

/** The same outcomes on some of the problems (in the order given). */
export function subsetOutcomes(d: OutcomeData, problems: readonly number[]): OutcomeData {
  const pick = <T extends Uint8Array | Float64Array>(a: T): T =>
    (a instanceof Uint8Array
      ? Uint8Array.from(problems, (i) => a[i] as number)
      : Float64Array.from(problems, (i) => a[i] as number)) as T;
  const { probe, ...rest } = d;
  return {
    ...rest,
    prompts: problems.map((i) => d.prompts[i] as string),
    passAt1: problems.map((i) => d.passAt1[i] as number),
    correct: d.correct.map(pick),
    tokens: d.tokens.map(pick),
    money: d.money.map(pick),
    flops: d.flops.map(pick),
    generations: d.generations.map(pick),
    ...(probe
      ? {
          probe: {
            ...probe,
            features: problems.map((i) => probe.features[i] as number[]),
            tokens: pick(probe.tokens),
            ...(probe.reusable
              ? { reusable: { completion: pick(probe.reusable.completion), scoring: pick(probe.reusable.scoring) } }
              : {}),
          },
        }
      : {}),
  };
}

/** Accuracy and mean tokens of one configuration over all problems of the data, or null when it is not there. */
export function configFigures(
  d: OutcomeData,
  config: string,
): { accuracy: number; meanTokens: number; meanGenerations: number; correct: number; count: number } | null {
  const c = d.configs.findIndex((x) => x.config === config);
  if (c < 0) return null;
  const n = d.prompts.length;
  let k = 0;
  let t = 0;
  let g = 0;
  for (let i = 0; i < n; i++) {
    k += (d.correct[c] as Uint8Array)[i] as number;
    t += (d.tokens[c] as Float64Array)[i] as number;
    g += (d.generations[c] as Float64Array)[i] as number;
  }
  return { accuracy: k / n, meanTokens: t / n, meanGenerations: g / n, correct: k, count: n };
}

export interface Ratio {
  ratio: number | null;
  at: number | null;
  accuracy: number | null;
}

/**
 * Cost-matched ratio against a baseline (best-of-N weighted at N = 64): the baseline's mean tokens over the
 * mean tokens of the cheapest curve point that reaches its accuracy. Not measurable at the floor or ceiling.
 */
export function ratioAgainst(
  baseline: { accuracy: number; meanTokens: number },
  curve: readonly { accuracy: number; meanTokens: number }[],
): Ratio {
  return costRatio(baseline, curve, (p) => p.meanTokens);
}

/** The same ratio in any cost unit: `cost` reads a point's mean cost (tokens, dollars, FLOPs). */
export function costRatio<T extends { accuracy: number }>(
  baseline: T,
  curve: readonly T[],
  cost: (p: T) => number,
): Ratio {
  if (baseline.accuracy <= 0.02 || baseline.accuracy >= 0.98) return { ratio: null, at: null, accuracy: null };
  let best: T | null = null;
  for (const p of curve) if (p.accuracy >= baseline.accuracy - 1e-12 && (!best || cost(p) < cost(best))) best = p;
  return best
    ? { ratio: cost(baseline) / cost(best), at: cost(best), accuracy: best.accuracy }
    : { ratio: null, at: null, accuracy: null };
}

/** The outcomes of the configurations `keep` accepts only (every per-configuration array alike). */
export function keepConfigs(d: OutcomeData, keep: (c: CandidateConfig) => boolean): OutcomeData {
  const idx = d.configs.map((c, i) => (keep(c) ? i : -1)).filter((i) => i >= 0);
  const pick = <T>(xs: readonly T[]): T[] => idx.map((i) => xs[i] as T);
  return {
    ...d,
    configs: pick(d.configs),
    correct: pick(d.correct),
    tokens: pick(d.tokens),
    money: pick(d.money),
    flops: pick(d.flops),
    generations: pick(d.generations),
  };
}

/** Whether a candidate configuration runs on the larger model (an escalation arm). */
export function onLargeModel(c: CandidateConfig): boolean {
  return runsOnLargeModel(c.spec);
}

/** Several seeds' outcomes as one set of problems (the same configurations in the same order; probes joined too). */
export function concatOutcomes(parts: readonly OutcomeData[]): OutcomeData {
  const first = parts[0] as OutcomeData;
  return {
    prompts: parts.flatMap((p) => p.prompts),
    passAt1: parts.flatMap((p) => p.passAt1),
    oracleSamples: first.oracleSamples,
    configs: first.configs,
    correct: first.configs.map((_, c) => Uint8Array.from(parts.flatMap((p) => [...(p.correct[c] as Uint8Array)]))),
    tokens: first.configs.map((_, c) => Float64Array.from(parts.flatMap((p) => [...(p.tokens[c] as Float64Array)]))),
    money: first.configs.map((_, c) => Float64Array.from(parts.flatMap((p) => [...(p.money[c] as Float64Array)]))),
    flops: first.configs.map((_, c) => Float64Array.from(parts.flatMap((p) => [...(p.flops[c] as Float64Array)]))),
    generations: first.configs.map((_, c) =>
      Float64Array.from(parts.flatMap((p) => [...(p.generations[c] as Float64Array)])),
    ),
    ...(first.probe
      ? {
          probe: {
            ...first.probe,
            features: parts.flatMap((p) => p.probe?.features ?? []),
            tokens: Float64Array.from(parts.flatMap((p) => [...(p.probe?.tokens ?? [])])),
            reusable: {
              completion: Float64Array.from(parts.flatMap((p) => [...(p.probe?.reusable?.completion ?? [])])),
              scoring: Float64Array.from(parts.flatMap((p) => [...(p.probe?.reusable?.scoring ?? [])])),
            },
          },
        }
      : {}),
  };
}
