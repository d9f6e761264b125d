/**
 * From per-solve records to the evaluation's tables: accuracy with 95% intervals per configuration,
 * budget and difficulty bin; compute-optimal selection per bin with two-fold cross-validation; and the
 * efficiency ratio against best-of-N weighted (method.md §6–§7).
 */
import { mixSeeds, Rng } from "../engine/random";
import type { Family } from "./grid";
import { mean, quantileBins, round, wilson } from "./stats";
import type { ProblemResult, SolveRecord } from "./sweep";

export const BIN_COUNT = 5;
export type BinLabel = number | "all";

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

export interface OptimalRow {
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

export interface EfficiencyRow {
  /** Best-of-N weighted's budget. */
  n: number;
  bestOfNAccuracy: number;
  /** Smallest budget at which compute-optimal reaches that accuracy, or null if none does. */
  matchedAt: number | null;
  computeOptimalAccuracy: number | null;
  ratio: number | null;
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
  efficiency: EfficiencyRow[];
}

function accuracyOf(records: readonly SolveRecord[]): { accuracy: number; lo: number; hi: number; count: number } {
  const k = records.filter((r) => r.correct).length;
  const { lo, hi } = wilson(k, records.length);
  return { accuracy: round(k / Math.max(1, records.length)), lo: round(lo), hi: round(hi), count: records.length };
}

export function buildTables(results: readonly ProblemResult[], budgets: readonly number[], seed: number): Tables {
  const bins = quantileBins(results.map((r) => r.passAt1), BIN_COUNT);
  const binOf = (problem: number): number => bins[problem] as number;
  const oracle: OracleBin[] = [];
  for (let b = 1; b <= BIN_COUNT; b++) {
    const p = results.filter((r) => binOf(r.problem) === b).map((r) => r.passAt1);
    oracle.push({ bin: b, count: p.length, meanPassAt1: round(mean(p)), minPassAt1: round(Math.min(...p)), maxPassAt1: round(Math.max(...p)) });
  }

  // Group records by configuration and budget, keeping first-seen order (families, then grid order).
  const byConfig = new Map<string, SolveRecord[]>();
  for (const r of results) {
    for (const rec of r.records) {
      const key = `${rec.budget}|${rec.config}`;
      let list = byConfig.get(key);
      if (!list) byConfig.set(key, (list = []));
      list.push(rec);
    }
  }
  const keys = [...byConfig.keys()].sort((a, b) => budgetOf(a) - budgetOf(b));
  const rows: AccuracyRow[] = [];
  for (const key of keys) {
    const recs = byConfig.get(key) as SolveRecord[];
    const first = recs[0] as SolveRecord;
    for (const bin of ["all", 1, 2, 3, 4, 5] as BinLabel[]) {
      const subset = bin === "all" ? recs : recs.filter((r) => binOf(r.problem) === bin);
      rows.push({
        strategy: first.strategy,
        family: first.family,
        series: first.series,
        config: first.config,
        budget: first.budget,
        bin,
        ...accuracyOf(subset),
        meanGenerations: round(mean(subset.map((r) => r.generations)), 3),
        meanTokens: round(mean(subset.map((r) => r.tokens)), 1),
        meanVerifierTokens: round(mean(subset.map((r) => r.verifierTokens)), 1),
        meanFlops: round(mean(subset.map((r) => r.flops)), 0),
        meanMoney: round(mean(subset.map((r) => r.money)), 9),
      });
    }
  }

  const { computeOptimal, choices } = crossValidate(results, byConfig, keys, budgets, bins, seed);
  const efficiency = efficiencyTable(rows, computeOptimal, budgets);
  return { oracle, rows, computeOptimal, choices, efficiency };
}

function budgetOf(key: string): number {
  return Number(key.slice(0, key.indexOf("|")));
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

/**
 * Compute-optimal per bin with two-fold cross-validation: for each bin and budget, choose the configuration
 * with the best accuracy on one fold and measure it on the other, both ways round. Every problem is then
 * measured once, by a choice made without it.
 */
function crossValidate(
  results: readonly ProblemResult[],
  byConfig: Map<string, SolveRecord[]>,
  keys: readonly string[],
  budgets: readonly number[],
  bins: readonly number[],
  seed: number,
): { computeOptimal: OptimalRow[]; choices: OptimalChoice[] } {
  const folds = assignFolds(bins, seed);
  const computeOptimal: OptimalRow[] = [];
  const choices: OptimalChoice[] = [];
  for (const budget of budgets) {
    const candidates = keys.filter((k) => budgetOf(k) === budget);
    if (candidates.length === 0) continue;
    // correct[config][problem]
    const table = candidates.map((k) => {
      const flags = new Array<boolean | undefined>(results.length);
      for (const rec of byConfig.get(k) as SolveRecord[]) flags[rec.problem] = rec.correct;
      return flags;
    });
    const heldOut = new Array<boolean | undefined>(results.length);
    for (let fold = 0; fold < 2; fold++) {
      for (let bin = 1; bin <= BIN_COUNT; bin++) {
        const train = results.map((_, i) => i).filter((i) => bins[i] === bin && folds[i] === fold);
        const test = results.map((_, i) => i).filter((i) => bins[i] === bin && folds[i] !== fold);
        if (test.length === 0) continue;
        let best = 0;
        let bestAcc = -1;
        table.forEach((flags, c) => {
          const acc = train.length ? train.filter((i) => flags[i]).length / train.length : 0;
          if (acc > bestAcc) {
            bestAcc = acc;
            best = c;
          }
        });
        choices.push({ fold, bin, budget, config: (candidates[best] as string).slice(String(budget).length + 1), chosenOnAccuracy: round(bestAcc) });
        for (const i of test) heldOut[i] = (table[best] as (boolean | undefined)[])[i] ?? false;
      }
    }
    for (const bin of ["all", 1, 2, 3, 4, 5] as BinLabel[]) {
      const flags = heldOut.filter((f, i) => f !== undefined && (bin === "all" || bins[i] === bin)) as boolean[];
      const k = flags.filter(Boolean).length;
      const { lo, hi } = wilson(k, flags.length);
      computeOptimal.push({ budget, bin, accuracy: round(k / Math.max(1, flags.length)), lo: round(lo), hi: round(hi), count: flags.length });
    }
  }
  return { computeOptimal, choices };
}

/** For each N: the smallest budget at which compute-optimal matches best-of-N weighted at N. */
function efficiencyTable(rows: readonly AccuracyRow[], optimal: readonly OptimalRow[], budgets: readonly number[]): EfficiencyRow[] {
  const out: EfficiencyRow[] = [];
  const sorted = [...budgets].sort((a, b) => a - b);
  for (const n of sorted) {
    const bon = rows.find((r) => r.family === "best-of-n" && r.budget === n && r.bin === "all");
    if (!bon) continue;
    let matchedAt: number | null = null;
    let acc: number | null = null;
    for (const b of sorted) {
      const co = optimal.find((r) => r.budget === b && r.bin === "all");
      if (co && co.accuracy >= bon.accuracy) {
        matchedAt = b;
        acc = co.accuracy;
        break;
      }
    }
    out.push({ n, bestOfNAccuracy: bon.accuracy, matchedAt, computeOptimalAccuracy: acc, ratio: matchedAt ? round(n / matchedAt, 3) : null });
  }
  return out;
}
