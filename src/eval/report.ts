/**
 * From per-solve records to the evaluation's tables (method.md §6–§7): accuracy with 95% intervals per
 * configuration, budget and difficulty bin, with the mean spend in every unit users pay for; compute-optimal
 * selection per bin with two-fold cross-validation, matched on generations (the paper's unit) and on cost
 * (tokens, FLOPs, dollars); and efficiency ratios against best-of-N weighted with bootstrap intervals.
 *
 * Everything is computed from a compact per-seed matrix (correct and cost per configuration and problem),
 * through per-cell sums with problem weights: weights of 1 give the point estimates, bootstrap multiplicities
 * give the resamples, and summing several seeds' cells pools them.
 */
import { SPEND_UNITS, UNITS as METER_UNITS, type CostUnit, type SpendUnit } from "../engine/meter";
import { mixSeeds, Rng } from "../engine/random";
import type { Family } from "./grid";
import { mean, percentileInterval, quantileBins, round, sig, stratifiedResample, wilson } from "./stats";
import type { ProblemResult } from "./sweep";

export const BIN_COUNT = 5;
export type BinLabel = number | "all";

export type { CostUnit };
/** The meter's cost units (src/engine/meter.ts) in the order the report's tables show them. */
export const COST_UNITS: readonly CostUnit[] = ["tokens", "flops", "money"];
export const UNITS = ["generations", ...COST_UNITS] as const;
export type Unit = SpendUnit;
export const UNIT_NAMES: Record<Unit, string> = Object.fromEntries(
  SPEND_UNITS.map((u) => [u, METER_UNITS[u].name]),
) as Record<Unit, string>;

/** Accuracies at or beyond these say nothing about a comparison: nothing can go lower or higher. */
export const FLOOR = 0.02;
export const CEILING = 0.98;

/** Cost budgets step by this factor, so efficiency ratios are not quantised to powers of two. */
export const COST_GRID_STEPS_PER_DOUBLING = 4;

/** Bootstrap resamples for intervals (seeded, so the output stays deterministic). */
export const DEFAULT_RESAMPLES = 400;

export interface AccuracyRow {
  strategy: string;
  family: Family;
  series: string;
  config: string;
  budget: number;
  bin: BinLabel;
  accuracy: number;
  lo: number;
  hi: number;
  count: number;
  meanGenerations: number;
  meanTokens: number;
  meanVerifierTokens: number;
  meanFlops: number;
  meanMoney: number;
}

/** Held-out mean spend per problem of a cross-validated policy, in every unit. */
export interface Spent {
  meanGenerations: number;
  meanTokens: number;
  meanFlops: number;
  meanMoney: number;
}

/** Generation-matched compute-optimal (the paper's): every configuration spends exactly `budget` generations. */
export interface OptimalRow extends Spent {
  budget: number;
  bin: BinLabel;
  accuracy: number;
  lo: number;
  hi: number;
  count: number;
}

export interface OptimalChoice {
  /** The fold the choice was made on; it was measured on the other. */
  fold: number;
  bin: number;
  budget: number;
  config: string;
  chosenOnAccuracy: number;
}

/** Cost-matched compute-optimal: per bin, the best configuration whose mean cost on the training fold is at most `budget`. */
export interface CostOptimalRow extends Spent {
  unit: CostUnit;
  /** The cost budget C, in `unit` per problem. */
  budget: number;
  bin: BinLabel;
  accuracy: number;
  lo: number;
  hi: number;
  count: number;
  /** Held-out mean cost per problem actually spent, in `unit` (one of the Spent fields, repeated for reading). */
  spent: number;
}

export interface CostChoice {
  unit: CostUnit;
  budget: number;
  fold: number;
  bin: number;
  config: string;
  budgetOfConfig: number;
  chosenOnAccuracy: number;
  /** Mean cost of the chosen configuration on the fold it was chosen on (at most `budget`). */
  chosenOnCost: number;
}

export type EfficiencyStatus = "measured" | "not reached" | "not measurable";

export interface EfficiencyRow {
  unit: Unit;
  /** Best-of-N weighted's budget N. */
  n: number;
  bestOfNAccuracy: number;
  /** Best-of-N weighted's mean cost per problem at N, in `unit`. */
  bestOfNCost: number;
  /** The smallest budget (N in generations, C in a cost unit) at which compute-optimal reaches that accuracy. */
  matchedAt: number | null;
  /** Held-out mean cost per problem that compute-optimal spent there, in `unit`. */
  matchedSpent: number | null;
  computeOptimalAccuracy: number | null;
  /**
   * Generations (the paper's unit): N / matchedAt. Cost units: best-of-N's mean cost / compute-optimal's
   * held-out mean cost at the smallest C that reaches it.
   */
  ratio: number | null;
  status: EfficiencyStatus;
  /** Why a ratio is missing. */
  note?: string;
  /** 95% bootstrap interval (problems resampled within bins); a resample that never reaches counts as 0. */
  interval: { lo: number; hi: number } | null;
  /** Share of bootstrap resamples in which compute-optimal reached best-of-N's accuracy. */
  reachedShare: number | null;
}

export interface OracleBin {
  bin: number;
  count: number;
  meanPassAt1: number;
  minPassAt1: number;
  maxPassAt1: number;
}

export interface Tables {
  oracle: OracleBin[];
  rows: AccuracyRow[];
  computeOptimal: OptimalRow[];
  choices: OptimalChoice[];
  /** Generations: the paper's unit. */
  efficiency: EfficiencyRow[];
  costOptimal: CostOptimalRow[];
  costChoices: CostChoice[];
  /** Tokens (generator + verifier), FLOPs and dollars. */
  costEfficiency: EfficiencyRow[];
}

// ------------------------------------------------------------------------------------------ the matrix

export interface ConfigInfo {
  strategy: string;
  family: Family;
  series: string;
  config: string;
  budget: number;
}

/** One seed's outcomes: correct and cost per configuration (rows) and problem (columns). */
export interface SeedMatrix {
  seed: number;
  passAt1: number[];
  /** Oracle difficulty bin per problem, 1 (easiest) … 5. */
  bins: number[];
  /** Cross-validation fold per problem, 0 or 1 (stratified by bin). */
  folds: number[];
  configs: ConfigInfo[];
  correct: Uint8Array[];
  cost: Record<Unit, Float64Array[]>;
  verifierTokens: Float64Array[];
}

export function seedMatrix(results: readonly ProblemResult[], seed: number): SeedMatrix {
  const n = results.length;
  const passAt1 = results.map((r) => r.passAt1);
  const bins = quantileBins(passAt1, BIN_COUNT);
  const folds = assignFolds(bins, seed);
  const first = results[0]?.records ?? [];
  const configs: ConfigInfo[] = first.map((r) => ({
    strategy: r.strategy,
    family: r.family,
    series: r.series,
    config: r.config,
    budget: r.budget,
  }));
  const correct = configs.map(() => new Uint8Array(n));
  const cost = Object.fromEntries(UNITS.map((u) => [u, configs.map(() => new Float64Array(n))])) as Record<
    Unit,
    Float64Array[]
  >;
  const verifierTokens = configs.map(() => new Float64Array(n));
  for (const r of results) {
    // Every problem runs the same configurations in the same order (the grid does not depend on the problem).
    if (r.records.length !== configs.length)
      throw new Error(`problem ${r.problem}: ${r.records.length} records, expected ${configs.length}`);
    r.records.forEach((rec, c) => {
      const info = configs[c] as ConfigInfo;
      if (rec.config !== info.config || rec.strategy !== info.strategy || rec.budget !== info.budget)
        throw new Error(`problem ${r.problem}: records out of order`);
      (correct[c] as Uint8Array)[r.problem] = rec.correct ? 1 : 0;
      for (const u of UNITS) (cost[u][c] as Float64Array)[r.problem] = rec[u];
      (verifierTokens[c] as Float64Array)[r.problem] = rec.verifierTokens;
    });
  }
  return { seed, passAt1, bins, folds, configs, correct, cost, verifierTokens };
}

/** Two folds, stratified by bin, drawn from the seed. */
export function assignFolds(bins: readonly number[], seed: number): number[] {
  const folds = new Array<number>(bins.length).fill(0);
  for (let b = 1; b <= BIN_COUNT; b++) {
    const members = bins.map((x, i) => (x === b ? i : -1)).filter((i) => i >= 0);
    const rng = new Rng(mixSeeds(seed, 0xf01d, b));
    for (let i = members.length - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      [members[i], members[j]] = [members[j] as number, members[i] as number];
    }
    members.forEach((p, i) => (folds[p] = i % 2));
  }
  return folds;
}

/** Bin × fold cells: the strata of the bootstrap and the units of cross-validation. */
const CELLS = BIN_COUNT * 2;
const cellOf = (bin: number, fold: number): number => (bin - 1) * 2 + fold;

/**
 * Bootstrap multiplicities for a seed's problems, `count` of them, seeded from the seed and a tag. Problems
 * are resampled within their difficulty bin (bins are quintiles: their sizes are part of the design) and
 * keep their fold. Not within bin and fold: with a few problems per cell that would leave almost nothing
 * to vary and give intervals far too narrow.
 */
export function bootstrapWeights(m: SeedMatrix, count: number, tag: number): Float64Array[] {
  const rng = new Rng(mixSeeds(m.seed, 0xb007, tag));
  const bins: number[][] = Array.from({ length: BIN_COUNT }, () => []);
  m.bins.forEach((b, i) => (bins[b - 1] as number[]).push(i));
  return Array.from({ length: count }, () => stratifiedResample(bins, m.bins.length, rng));
}

/** Per-cell weighted sums: problems W, correct K, cost S; indexed [config * CELLS + cell]. */
export interface Aggregate {
  configs: ConfigInfo[];
  W: Float64Array;
  K: Float64Array;
  S: Record<Unit, Float64Array>;
}

/** Sum the cells of one or more seeds (same configurations), each problem counted with its weight. */
export function aggregate(ms: readonly SeedMatrix[], weights?: readonly (Float64Array | null)[]): Aggregate {
  const configs = (ms[0] as SeedMatrix).configs;
  const C = configs.length;
  const W = new Float64Array(CELLS);
  const K = new Float64Array(C * CELLS);
  const S = Object.fromEntries(UNITS.map((u) => [u, new Float64Array(C * CELLS)])) as Record<Unit, Float64Array>;
  ms.forEach((m, s) => {
    if (m.configs.length !== C) throw new Error("seeds with different configurations cannot be pooled");
    const w = weights?.[s] ?? null;
    const cellIdx = m.bins.map((b, i) => cellOf(b, m.folds[i] as number));
    for (let i = 0; i < cellIdx.length; i++) {
      const cell = cellIdx[i] as number;
      W[cell] = (W[cell] as number) + (w ? (w[i] as number) : 1);
    }
    for (let c = 0; c < C; c++) {
      const corr = m.correct[c] as Uint8Array;
      const costs = UNITS.map((u) => m.cost[u][c] as Float64Array);
      const sums = UNITS.map((u) => S[u]);
      const base = c * CELLS;
      for (let i = 0; i < cellIdx.length; i++) {
        const wi = w ? (w[i] as number) : 1;
        if (wi === 0) continue;
        const at = base + (cellIdx[i] as number);
        if (corr[i]) K[at] = (K[at] as number) + wi;
        for (let u = 0; u < costs.length; u++)
          (sums[u] as Float64Array)[at] =
            ((sums[u] as Float64Array)[at] as number) + wi * ((costs[u] as Float64Array)[i] as number);
      }
    }
  });
  return { configs, W, K, S };
}

// ------------------------------------------------------------------------------------ cross-validation

/** What a cross-validated policy scored on held-out problems: overall and per bin. */
export interface HeldOut {
  /** Index BIN_COUNT+0 is unused; [0] overall, [b] bin b. */
  k: number[];
  n: number[];
  spent: Record<Unit, number[]>;
  /** Chosen configuration per (bin, training fold) cell, -1 where nothing was chosen. */
  choice: number[];
}

/** Measure a choice per (bin, training fold) on the other fold. Null when a cell with test problems has no choice. */
function heldOut(agg: Aggregate, choose: (bin: number, trainFold: number) => number): HeldOut | null {
  const k = new Array<number>(BIN_COUNT + 1).fill(0);
  const n = new Array<number>(BIN_COUNT + 1).fill(0);
  const spent = Object.fromEntries(UNITS.map((u) => [u, new Array<number>(BIN_COUNT + 1).fill(0)])) as Record<
    Unit,
    number[]
  >;
  const choice = new Array<number>(CELLS).fill(-1);
  for (let bin = 1; bin <= BIN_COUNT; bin++) {
    for (let fold = 0; fold < 2; fold++) {
      const test = cellOf(bin, 1 - fold);
      const nt = agg.W[test] as number;
      if (nt === 0) continue;
      const c = choose(bin, fold);
      if (c < 0) return null;
      choice[cellOf(bin, fold)] = c;
      const at = c * CELLS + test;
      for (const slot of [0, bin]) {
        k[slot] = (k[slot] as number) + (agg.K[at] as number);
        n[slot] = (n[slot] as number) + nt;
        for (const u of UNITS)
          (spent[u] as number[])[slot] = ((spent[u] as number[])[slot] as number) + (agg.S[u][at] as number);
      }
    }
  }
  for (const u of UNITS) spent[u] = (spent[u] as number[]).map((s, slot) => (n[slot] ? s / (n[slot] as number) : 0));
  return { k, n, spent, choice };
}

/**
 * Generation-matched compute-optimal at each budget: per bin, the configuration at that budget with the best
 * accuracy on one fold, measured on the other, both ways round (the first in grid order wins a tie).
 */
export function generationMatched(agg: Aggregate, budgets: readonly number[]): Map<number, HeldOut> {
  const out = new Map<number, HeldOut>();
  for (const budget of budgets) {
    const candidates = agg.configs.map((c, i) => (c.budget === budget ? i : -1)).filter((i) => i >= 0);
    if (candidates.length === 0) continue;
    const h = heldOut(agg, (bin, fold) => {
      const cell = cellOf(bin, fold);
      let best = candidates[0] as number;
      let bestK = -1;
      for (const c of candidates) {
        const kc = agg.K[c * CELLS + cell] as number;
        if (kc > bestK) {
          bestK = kc;
          best = c;
        }
      }
      return best;
    });
    if (h) out.set(budget, h);
  }
  return out;
}

/** Cost budgets 2^(k/4) spanning the configurations' overall mean costs. */
export function costGrid(agg: Aggregate, unit: CostUnit): number[] {
  const total = agg.W.reduce((a, b) => a + b, 0);
  if (total === 0) return [];
  // From the cheapest configuration overall up to the dearest one in any cell, so that at the top of the
  // grid every configuration is affordable in every bin and fold.
  let lo = Infinity;
  let hi = 0;
  for (let c = 0; c < agg.configs.length; c++) {
    let s = 0;
    for (let cell = 0; cell < CELLS; cell++) {
      const sc = agg.S[unit][c * CELLS + cell] as number;
      s += sc;
      if ((agg.W[cell] as number) > 0) hi = Math.max(hi, sc / (agg.W[cell] as number));
    }
    const m = s / total;
    if (m > 0) lo = Math.min(lo, m);
  }
  if (!(hi > 0)) return [];
  const step = COST_GRID_STEPS_PER_DOUBLING;
  const out: number[] = [];
  for (let k = Math.floor(step * Math.log2(lo)); k <= Math.ceil(step * Math.log2(hi)); k++) out.push(2 ** (k / step));
  return out;
}

/**
 * Cost-matched compute-optimal at each cost budget C of the grid: per bin, among all configurations (any
 * budget, any strategy) whose mean cost on the training fold is at most C, the one with the best training
 * accuracy (the cheapest wins a tie), measured on the other fold, both ways round. A budget at which some
 * bin has no affordable configuration gives no point.
 */
export function costMatched(agg: Aggregate, unit: CostUnit, grid: readonly number[]): (HeldOut | null)[] {
  const C = agg.configs.length;
  // Per training cell: configurations by training cost, and the running best by training accuracy.
  const order: number[][] = [];
  const best: number[][] = [];
  for (let cell = 0; cell < CELLS; cell++) {
    const cost = (c: number): number => agg.S[unit][c * CELLS + cell] as number;
    const o = Array.from({ length: C }, (_, c) => c).sort((a, b) => cost(a) - cost(b) || a - b);
    const b: number[] = [];
    let top = -1;
    for (const c of o) {
      if (top < 0 || (agg.K[c * CELLS + cell] as number) > (agg.K[top * CELLS + cell] as number)) top = c;
      b.push(top);
    }
    order.push(o);
    best.push(b);
  }
  const pointer = new Array<number>(CELLS).fill(0);
  return grid.map((budget) => {
    for (let cell = 0; cell < CELLS; cell++) {
      const cap = budget * (agg.W[cell] as number) * (1 + 1e-9);
      const o = order[cell] as number[];
      let p = pointer[cell] as number;
      while (p < o.length && (agg.S[unit][(o[p] as number) * CELLS + cell] as number) <= cap) p++;
      pointer[cell] = p;
    }
    return heldOut(agg, (bin, fold) => {
      const cell = cellOf(bin, fold);
      if ((agg.W[cell] as number) === 0) return -1;
      const p = pointer[cell] as number;
      return p > 0 ? ((best[cell] as number[])[p - 1] as number) : -1;
    });
  });
}

// ------------------------------------------------------------------------------------------ efficiency

function bestOfNIndex(configs: readonly ConfigInfo[], n: number): number {
  return configs.findIndex((c) => c.strategy === "best-of-n" && c.budget === n);
}

interface RatioPoint {
  bestOfNAccuracy: number;
  bestOfNCost: number;
  matchedAt: number | null;
  matchedSpent: number | null;
  computeOptimalAccuracy: number | null;
  ratio: number | null;
  measurable: string | null;
}

function atFloorOrCeiling(acc: number, what: string): string | null {
  if (acc <= FLOOR) return `${what} is ${(100 * acc).toFixed(1)}%, at the floor (≤ ${100 * FLOOR}%): nothing to match`;
  if (acc >= CEILING)
    return `${what} is ${(100 * acc).toFixed(1)}%, at the ceiling (≥ ${100 * CEILING}%): nothing to match`;
  return null;
}

/**
 * The efficiency ratio at best-of-N weighted's N in one unit, from a curve of (budget, held-out policy)
 * points in increasing budget. Generations use N / budget (the paper's unit); cost units use best-of-N's
 * mean cost over compute-optimal's held-out mean cost at the smallest budget that reaches its accuracy.
 */
function ratioAt(
  agg: Aggregate,
  unit: Unit,
  n: number,
  curve: readonly (readonly [number, HeldOut])[],
): RatioPoint | null {
  const bon = bestOfNIndex(agg.configs, n);
  if (bon < 0) return null;
  let total = 0;
  let k = 0;
  let s = 0;
  for (let cell = 0; cell < CELLS; cell++) {
    total += agg.W[cell] as number;
    k += agg.K[bon * CELLS + cell] as number;
    s += agg.S[unit][bon * CELLS + cell] as number;
  }
  const acc = total ? k / total : 0;
  const point: RatioPoint = {
    bestOfNAccuracy: acc,
    bestOfNCost: total ? s / total : 0,
    matchedAt: null,
    matchedSpent: null,
    computeOptimalAccuracy: null,
    ratio: null,
    measurable: atFloorOrCeiling(acc, `best-of-N weighted at N=${n}`),
  };
  if (point.measurable) return point;
  for (const [budget, h] of curve) {
    const co = (h.k[0] as number) / Math.max(1e-300, h.n[0] as number);
    if (co >= acc - 1e-12) {
      point.matchedAt = budget;
      point.matchedSpent = h.spent[unit][0] as number;
      point.computeOptimalAccuracy = co;
      point.ratio = unit === "generations" ? n / budget : point.bestOfNCost / (point.matchedSpent as number);
      break;
    }
  }
  return point;
}

/** Curves per unit: the generation-matched one on budgets, the cost-matched ones on the cost grids. */
export interface Curves {
  generations: [number, HeldOut][];
  tokens: [number, HeldOut][];
  flops: [number, HeldOut][];
  money: [number, HeldOut][];
}

export function curves(agg: Aggregate, budgets: readonly number[], grids: Record<CostUnit, number[]>): Curves {
  const gen = generationMatched(
    agg,
    [...budgets].sort((a, b) => a - b),
  );
  const out: Curves = { generations: [...gen.entries()], tokens: [], flops: [], money: [] };
  for (const u of COST_UNITS) {
    const points = costMatched(agg, u, grids[u]);
    out[u] = grids[u]
      .map((c, i) => [c, points[i]] as [number, HeldOut | null])
      .filter((p): p is [number, HeldOut] => p[1] !== null);
  }
  return out;
}

/** Efficiency ratio points for every N of best-of-N weighted in the sweep, per unit. */
export function ratios(
  agg: Aggregate,
  budgets: readonly number[],
  grids: Record<CostUnit, number[]>,
): Map<string, RatioPoint> {
  const cv = curves(agg, budgets, grids);
  const out = new Map<string, RatioPoint>();
  for (const unit of UNITS) {
    for (const n of budgets) {
      const r = ratioAt(agg, unit, n, cv[unit]);
      if (r) out.set(`${unit}|${n}`, r);
    }
  }
  return out;
}

// -------------------------------------------------------------------------------------------- tables

function accuracyOf(k: number, n: number): { accuracy: number; lo: number; hi: number; count: number } {
  const { lo, hi } = wilson(k, n);
  return { accuracy: round(k / Math.max(1, n)), lo: round(lo), hi: round(hi), count: n };
}

function spentOf(h: HeldOut, slot: number): Spent {
  return {
    meanGenerations: round(h.spent.generations[slot] as number, 3),
    meanTokens: round(h.spent.tokens[slot] as number, 1),
    meanFlops: sig(h.spent.flops[slot] as number),
    meanMoney: sig(h.spent.money[slot] as number),
  };
}

export interface TableOptions {
  /** Bootstrap resamples for the efficiency intervals; 0 for none. */
  resamples?: number;
}

export function buildTables(
  results: readonly ProblemResult[],
  budgets: readonly number[],
  seed: number,
  options: TableOptions = {},
): Tables {
  return tablesFromMatrix(seedMatrix(results, seed), budgets, options);
}

export function tablesFromMatrix(m: SeedMatrix, budgets: readonly number[], options: TableOptions = {}): Tables {
  const n = m.bins.length;
  const oracle: OracleBin[] = [];
  for (let b = 1; b <= BIN_COUNT; b++) {
    const p = m.passAt1.filter((_, i) => m.bins[i] === b);
    oracle.push({
      bin: b,
      count: p.length,
      meanPassAt1: round(mean(p)),
      minPassAt1: round(Math.min(...p)),
      maxPassAt1: round(Math.max(...p)),
    });
  }

  const rows: AccuracyRow[] = [];
  m.configs.forEach((info, c) => {
    for (const bin of ["all", 1, 2, 3, 4, 5] as BinLabel[]) {
      const idx: number[] = [];
      for (let i = 0; i < n; i++) if (bin === "all" || m.bins[i] === bin) idx.push(i);
      const corr = m.correct[c] as Uint8Array;
      const avg = (xs: Float64Array): number => mean(idx.map((i) => xs[i] as number));
      rows.push({
        ...info,
        bin,
        ...accuracyOf(idx.filter((i) => corr[i]).length, idx.length),
        meanGenerations: round(avg(m.cost.generations[c] as Float64Array), 3),
        meanTokens: round(avg(m.cost.tokens[c] as Float64Array), 1),
        meanVerifierTokens: round(avg(m.verifierTokens[c] as Float64Array), 1),
        meanFlops: sig(avg(m.cost.flops[c] as Float64Array)),
        meanMoney: sig(avg(m.cost.money[c] as Float64Array)),
      });
    }
  });

  const agg = aggregate([m]);
  const sortedBudgets = [...budgets].sort((a, b) => a - b);
  const grids = Object.fromEntries(COST_UNITS.map((u) => [u, costGrid(agg, u)])) as Record<CostUnit, number[]>;
  const cv = curves(agg, sortedBudgets, grids);

  const computeOptimal: OptimalRow[] = [];
  const choices: OptimalChoice[] = [];
  const trainAcc = (c: number, bin: number, fold: number): number => {
    const cell = cellOf(bin, fold);
    return round((agg.K[c * CELLS + cell] as number) / Math.max(1, agg.W[cell] as number));
  };
  for (const [budget, h] of cv.generations) {
    for (let fold = 0; fold < 2; fold++) {
      for (let bin = 1; bin <= BIN_COUNT; bin++) {
        const c = h.choice[cellOf(bin, fold)] as number;
        if (c >= 0)
          choices.push({
            fold,
            bin,
            budget,
            config: (m.configs[c] as ConfigInfo).config,
            chosenOnAccuracy: trainAcc(c, bin, fold),
          });
      }
    }
    (["all", 1, 2, 3, 4, 5] as BinLabel[]).forEach((bin) => {
      const slot = bin === "all" ? 0 : bin;
      computeOptimal.push({
        budget,
        bin,
        ...accuracyOf(h.k[slot] as number, h.n[slot] as number),
        ...spentOf(h, slot),
      });
    });
  }

  const costOptimal: CostOptimalRow[] = [];
  const costChoices: CostChoice[] = [];
  for (const unit of COST_UNITS) {
    for (const [budget, h] of cv[unit]) {
      const C = sig(budget);
      for (let fold = 0; fold < 2; fold++) {
        for (let bin = 1; bin <= BIN_COUNT; bin++) {
          const c = h.choice[cellOf(bin, fold)] as number;
          if (c < 0) continue;
          const cell = cellOf(bin, fold);
          const info = m.configs[c] as ConfigInfo;
          costChoices.push({
            unit,
            budget: C,
            fold,
            bin,
            config: info.config,
            budgetOfConfig: info.budget,
            chosenOnAccuracy: trainAcc(c, bin, fold),
            chosenOnCost: sig((agg.S[unit][c * CELLS + cell] as number) / Math.max(1, agg.W[cell] as number)),
          });
        }
      }
      (["all", 1, 2, 3, 4, 5] as BinLabel[]).forEach((bin) => {
        const slot = bin === "all" ? 0 : bin;
        costOptimal.push({
          unit,
          budget: C,
          bin,
          ...accuracyOf(h.k[slot] as number, h.n[slot] as number),
          spent: sig(h.spent[unit][slot] as number),
          ...spentOf(h, slot),
        });
      });
    }
  }

  // Efficiency, with bootstrap intervals: resample problems within bin and fold, redo the cross-validation.
  const resamples = options.resamples ?? DEFAULT_RESAMPLES;
  const point = new Map<string, RatioPoint>();
  for (const unit of UNITS)
    for (const nb of sortedBudgets) {
      const r = ratioAt(agg, unit, nb, cv[unit]);
      if (r) point.set(`${unit}|${nb}`, r);
    }
  const replicates = new Map<string, number[]>();
  if (resamples > 0) {
    for (const w of bootstrapWeights(m, resamples, 1)) {
      for (const [key, r] of ratios(aggregate([m], [w]), sortedBudgets, grids)) {
        let list = replicates.get(key);
        if (!list) replicates.set(key, (list = []));
        list.push(r.ratio ?? 0);
      }
    }
  }
  const efficiencyRows: EfficiencyRow[] = [];
  for (const unit of UNITS) {
    for (const nb of sortedBudgets) {
      const key = `${unit}|${nb}`;
      const r = point.get(key);
      if (!r) continue;
      const reps = r.measurable ? [] : (replicates.get(key) ?? []);
      const status: EfficiencyStatus = r.measurable ? "not measurable" : r.ratio === null ? "not reached" : "measured";
      const interval = reps.length ? percentileInterval(reps) : null;
      efficiencyRows.push({
        unit,
        n: nb,
        bestOfNAccuracy: round(r.bestOfNAccuracy),
        bestOfNCost: unit === "generations" ? round(r.bestOfNCost, 3) : sig(r.bestOfNCost),
        matchedAt: r.matchedAt === null ? null : sig(r.matchedAt),
        matchedSpent: r.matchedSpent === null ? null : sig(r.matchedSpent),
        computeOptimalAccuracy: r.computeOptimalAccuracy === null ? null : round(r.computeOptimalAccuracy),
        ratio: r.ratio === null ? null : round(r.ratio, 3),
        status,
        ...(r.measurable
          ? { note: r.measurable }
          : r.ratio === null
            ? { note: "compute-optimal does not reach it within the sweep" }
            : {}),
        interval: interval ? { lo: round(interval.lo, 3), hi: round(interval.hi, 3) } : null,
        reachedShare: reps.length ? round(reps.filter((x) => x > 0).length / reps.length, 4) : null,
      });
    }
  }
  return {
    oracle,
    rows,
    computeOptimal,
    choices,
    efficiency: efficiencyRows.filter((e) => e.unit === "generations"),
    costOptimal,
    costChoices,
    costEfficiency: efficiencyRows.filter((e) => e.unit !== "generations"),
  };
}
