/**
 * The default world at a size that keeps the suite quick: the qualitative properties of sim-world.md §7
 * that are stable at 150 problems, measured by running the real strategies through the evaluation.
 * The full-size check of all seven is `npm run verify-world`.
 */
import { describe, expect, it } from "vitest";
import { loadWorld } from "../src/eval/io";
import { parseStrategies } from "../src/eval/grid";
import { runEvaluation } from "../src/eval/run";
import type { AccuracyRow, BinLabel } from "../src/eval/report";
import { generateProblems } from "../src/sim/problems";

const world = loadWorld("worlds/default.json");
const problems = generateProblems(world, 11, 150).map((r) => ({
  id: r.unique_id,
  question: r.problem,
  answer: r.answer,
}));
const evaluation = await runEvaluation(world, problems, {
  seed: 11,
  budgets: [1, 4, 16, 64],
  strategies: parseStrategies("best-of-n,majority,beam:M=4"),
  oracleSamples: 64,
  threads: 1,
  dataset: "generated",
});
const { tables } = evaluation;

function acc(strategy: string, budget: number, bin: BinLabel = "all"): number {
  const row = tables.rows.find((r: AccuracyRow) => r.strategy === strategy && r.budget === budget && r.bin === bin);
  if (!row) throw new Error(`no row for ${strategy} at ${budget} in bin ${bin}`);
  return row.accuracy;
}

describe("default world, 150 problems (qualitative properties stable at this size)", () => {
  it("spans difficulty: oracle pass@1 falls bin by bin from ~0.95 to near 0", () => {
    const means = tables.oracle.map((b) => b.meanPassAt1);
    for (let i = 1; i < means.length; i++) expect(means[i]).toBeLessThan(means[i - 1] as number);
    expect(means[0]).toBeGreaterThan(0.9);
    expect(means[4]).toBeLessThan(0.1);
  });

  it("best-of-N weighted improves with N and majority voting stays below it", () => {
    expect(acc("best-of-n", 64) - acc("best-of-n", 1)).toBeGreaterThan(0.08);
    expect(acc("best-of-n", 16)).toBeGreaterThan(acc("best-of-n", 4));
    expect(acc("majority", 64)).toBeLessThan(acc("best-of-n", 64));
  });

  it("on the hardest bin no method lifts accuracy much above a single sample", () => {
    const single = acc("best-of-n", 1, 5);
    const best = Math.max(...tables.rows.filter((r) => r.bin === 5).map((r) => r.accuracy));
    expect(best - single).toBeLessThanOrEqual(0.15);
  });

  it("beam search beats best-of-N weighted on the medium-hard bins at N = 16", () => {
    const pooled = (s: string): number => (acc(s, 16, 3) + acc(s, 16, 4)) / 2;
    expect(pooled("beam:M=4")).toBeGreaterThan(pooled("best-of-n"));
  });

  it("cross-validated compute-optimal selection is not worse than best-of-N weighted at N = 64 by more than noise", () => {
    const co = tables.computeOptimal.find((r) => r.budget === 64 && r.bin === "all");
    expect(co).toBeDefined();
    expect((co as { accuracy: number }).accuracy).toBeGreaterThan(acc("best-of-n", 64) - 0.05);
  });
});
