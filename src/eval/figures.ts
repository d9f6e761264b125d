/** The evaluation's figures, in the style of the paper's: built from the tables, rendered by plots.ts. */
import { renderFigure, type Panel, type Series } from "./plots";
import type { AccuracyRow, BinLabel, Tables } from "./report";

const BINS: BinLabel[] = ["all", 1, 2, 3, 4, 5];

function binTitle(bin: BinLabel): string {
  return bin === "all"
    ? "All problems"
    : `Difficulty bin ${bin}${bin === 1 ? " (easiest)" : bin === 5 ? " (hardest)" : ""}`;
}

function seriesFrom(rows: readonly AccuracyRow[], label: string, dashed = false): Series {
  return { label, dashed, points: rows.map((r) => ({ x: r.budget, y: r.accuracy, lo: r.lo, hi: r.hi })) };
}

/** Accuracy vs. budget per search strategy (not revisions), one panel per bin, with compute-optimal. */
export function searchFigure(tables: Tables): string {
  const panels: Panel[] = BINS.map((bin) => {
    const rows = tables.rows.filter(
      (r) => r.bin === bin && r.family !== "revisions" && r.family !== "revisions-majority",
    );
    const labels = [...new Set(rows.map((r) => r.series))];
    const series = labels.map((l) =>
      seriesFrom(
        rows.filter((r) => r.series === l),
        l,
      ),
    );
    const co = tables.computeOptimal.filter((r) => r.bin === bin);
    if (co.length)
      series.push({
        label: "Compute-optimal (2-fold CV)",
        dashed: true,
        points: co.map((r) => ({ x: r.budget, y: r.accuracy, lo: r.lo, hi: r.hi })),
      });
    return { title: binTitle(bin), series };
  });
  return renderFigure(panels, {
    title: "Search against a PRM: accuracy vs. generation budget",
    xLabel: "Generation budget",
    yLabel: "Accuracy",
    columns: 3,
  });
}

/** Revisions: fully parallel vs. fully sequential vs. the best split, and best-of-N weighted for reference. */
export function revisionsFigure(tables: Tables): string {
  const panels: Panel[] = BINS.map((bin) => {
    const rows = tables.rows.filter((r) => r.bin === bin);
    const series: Series[] = [];
    for (const family of ["revisions", "revisions-majority"] as const) {
      const fam = rows.filter((r) => r.family === family);
      if (fam.length === 0) continue;
      const name = family === "revisions" ? "verifier" : "majority";
      series.push(
        seriesFrom(
          fam.filter((r) => r.series.endsWith(`s:p=1:${r.budget}`)),
          `Parallel (${name})`,
        ),
      );
      series.push(
        seriesFrom(
          fam.filter((r) => r.series.endsWith(`s:p=${r.budget}:1`)),
          `Sequential (${name})`,
        ),
      );
    }
    const bon = rows.filter((r) => r.family === "best-of-n");
    if (bon.length) series.push(seriesFrom(bon, "Best-of-N weighted", true));
    return { title: binTitle(bin), series };
  });
  return renderFigure(panels, {
    title: "Revisions: sequential vs. parallel",
    xLabel: "Generation budget",
    yLabel: "Accuracy",
    columns: 3,
  });
}

/** Accuracy vs. the sequential:parallel ratio (log2 s/p), one series per budget, one panel per bin. */
export function ratioFigure(tables: Tables): string {
  const panels: Panel[] = BINS.map((bin) => {
    const rows = tables.rows.filter((r) => r.bin === bin && r.family === "revisions" && r.budget >= 4);
    const budgets = [...new Set(rows.map((r) => r.budget))].sort((a, b) => a - b);
    const series = budgets.map((b) => ({
      label: `N=${b}`,
      points: rows
        .filter((r) => r.budget === b)
        .map((r) => {
          const m = /s:p=(\d+):(\d+)$/.exec(r.series);
          const ratio = m ? Math.log2(Number(m[1]) / Number(m[2])) : NaN;
          return { x: ratio, y: r.accuracy, lo: r.lo, hi: r.hi };
        }),
    }));
    return { title: binTitle(bin), series };
  });
  return renderFigure(panels, {
    title: "Revisions: accuracy vs. sequential:parallel ratio",
    xLabel: "log2(sequential / parallel)",
    yLabel: "Accuracy",
    logX: false,
    columns: 3,
  });
}

/**
 * Accuracy vs. mean tokens per problem (generator + verifier, log x), one panel per bin: what each strategy
 * costs in the unit users pay for, beside the cost-matched compute-optimal curve (x = held-out tokens spent).
 */
export function costFigure(tables: Tables): string {
  const k = (tokens: number): number => tokens / 1000;
  const panels: Panel[] = BINS.map((bin) => {
    const rows = tables.rows.filter(
      (r) => r.bin === bin && r.family !== "revisions" && r.family !== "revisions-majority",
    );
    const labels = [...new Set(rows.map((r) => r.series))];
    const series: Series[] = labels.map((l) => ({
      label: l,
      points: rows
        .filter((r) => r.series === l)
        .map((r) => ({ x: k(r.meanTokens), y: r.accuracy, lo: r.lo, hi: r.hi })),
    }));
    const gen = tables.computeOptimal.filter((r) => r.bin === bin);
    if (gen.length)
      series.push({
        label: "Compute-optimal, generation-matched",
        dashed: true,
        points: gen.map((r) => ({ x: k(r.meanTokens), y: r.accuracy, lo: r.lo, hi: r.hi })),
      });
    const cost = tables.costOptimal.filter((r) => r.bin === bin && r.unit === "tokens");
    if (cost.length)
      series.push({
        label: "Compute-optimal, token-matched",
        dashed: true,
        points: cost.map((r) => ({ x: k(r.spent), y: r.accuracy })),
      });
    return { title: binTitle(bin), series };
  });
  return renderFigure(panels, {
    title: "Accuracy vs. mean tokens per problem (generator + verifier; 2-fold CV for compute-optimal)",
    xLabel: "Mean tokens per problem, thousands (log scale)",
    yLabel: "Accuracy",
    columns: 3,
  });
}
