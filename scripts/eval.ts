/**
 * npm run eval -- [--world FILE] [--seeds LIST | --seed N] [--problems N] [--strategies LIST] [--budgets LIST]
 *                 [--out DIR] [--dataset FILE] [--oracle-samples N] [--threads N] [--resamples N] [--cache DIR] [--quiet]
 *
 * Sweeps strategies over a dataset against the simulated world and writes results.json, CSV tables and
 * SVG figures. Same world + seeds + arguments => byte-identical results.json.
 */
import { availableParallelism } from "node:os";
import { SingleBar, Presets } from "cli-progress";
import { generateProblems } from "../src/sim/problems";
import { runEvaluations, EVAL_DEFAULTS, type MultiEvaluation } from "../src/eval/run";
import {
  checkSimulatedDataset,
  InputError,
  loadDatasetRows,
  loadWorld,
  seedsArg,
  writeFilesAtomically,
  intArg,
  runCli,
  parseCliArgs,
} from "../src/eval/io";
import { configsAt, parseStrategies } from "../src/eval/grid";
import { UNIT_NAMES } from "../src/eval/report";

function budgetsArg(value: string | undefined): number[] {
  if (value === undefined) return EVAL_DEFAULTS.budgets;
  const out: number[] = [];
  for (const part of value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    if (!/^\d+$/.test(part) || Number(part) < 1)
      throw new InputError(`--budgets: "${part}" is not a budget (an integer >= 1 generation)`);
    if (Number(part) > 4096) throw new InputError(`--budgets: ${part} is above the largest supported budget (4096)`);
    out.push(Number(part));
  }
  if (out.length === 0) throw new InputError("--budgets: no budgets given");
  return [...new Set(out)].sort((a, b) => a - b);
}

async function main(): Promise<void> {
  const args = parseCliArgs({
    world: { type: "string" },
    seed: { type: "string" },
    seeds: { type: "string" },
    resamples: { type: "string" },
    cache: { type: "string" },
    problems: { type: "string" },
    strategies: { type: "string" },
    budgets: { type: "string" },
    out: { type: "string" },
    dataset: { type: "string" },
    "oracle-samples": { type: "string" },
    threads: { type: "string" },
    quiet: { type: "boolean" },
  });
  const world = loadWorld(args.world);
  if (args.seed !== undefined && args.seeds !== undefined) throw new InputError("--seed and --seeds: give one of them");
  const seeds =
    args.seeds !== undefined ? seedsArg("--seeds", args.seeds) : [intArg("seed", args.seed, EVAL_DEFAULTS.seed, 0)];
  const count = intArg("problems", args.problems, EVAL_DEFAULTS.problems, 10);
  const budgets = budgetsArg(args.budgets);
  let strategies;
  try {
    strategies = parseStrategies(args.strategies ?? EVAL_DEFAULTS.strategies);
  } catch (err) {
    throw new InputError(`--strategies: ${(err as Error).message}`);
  }
  // Refuse impossible strategy/budget combinations before any work starts.
  for (const entry of strategies) {
    for (const budget of budgets) {
      const grid = configsAt(entry, budget);
      if (!grid.ok) throw new InputError(`--strategies/--budgets: ${grid.error}`);
    }
  }
  const oracleSamples = intArg("oracle-samples", args["oracle-samples"], EVAL_DEFAULTS.oracleSamples, 1);
  const threads = intArg("threads", args.threads, Math.max(1, Math.min(availableParallelism(), 8)), 1);
  const resamples = args.resamples === undefined ? undefined : intArg("resamples", args.resamples, 0, 10);
  const out = args.out ?? "out/eval";
  let dataset: ReturnType<typeof loadDatasetRows> | null = null;
  if (args.dataset) {
    dataset = loadDatasetRows(args.dataset).slice(0, args.problems ? count : undefined);
    checkSimulatedDataset(args.dataset, dataset);
  }
  // With a dataset every seed sees the same problems (and draws its own samples and folds).
  const problemsFor = (seed: number) =>
    dataset
      ? dataset.map((r) => r.problem)
      : generateProblems(world, seed, count).map((r) => ({ id: r.unique_id, question: r.problem, answer: r.answer }));

  const total = (dataset?.length ?? count) * seeds.length;
  const bar = new SingleBar(
    {
      format:
        "eval [{bar}] {value}/{total} problems | {percentage}% | elapsed {duration_formatted} | ETA {eta_formatted}",
      etaBuffer: 50,
      stream: process.stderr,
    },
    Presets.shades_classic,
  );
  const showBar = !args.quiet && process.stderr.isTTY;
  if (showBar) bar.start(total, 0);
  const started = Date.now();
  const perSeed = dataset?.length ?? count;
  const result = await runEvaluations(
    world,
    problemsFor,
    {
      seeds,
      budgets,
      strategies,
      oracleSamples,
      threads,
      dataset: args.dataset ?? "generated",
      ...(resamples !== undefined ? { resamples } : {}),
      ...(args.cache ? { cacheDir: args.cache } : {}),
    },
    (k, done) => showBar && bar.update(k * perSeed + done),
  ).finally(() => showBar && bar.stop());
  writeFilesAtomically(out, result.files);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  process.stdout.write(
    `wrote ${Object.keys(result.files).length} files (${Object.keys(result.files)
      .filter((f) => !f.includes("/"))
      .join(", ")}${seeds.length > 1 ? ", seed-*/" : ""}) to ${out} in ${seconds}s\n`,
  );
  process.stdout.write(report(result));
}

/** The headline figures: efficiency in every unit, then the property verdicts. */
function report(result: MultiEvaluation): string {
  const lines: string[] = [];
  const many = result.perSeed.length > 1;
  lines.push(
    many
      ? `efficiency vs best-of-N weighted, median [range] over seeds ${result.summary.seeds.join(",")}:`
      : "efficiency vs best-of-N weighted (95% bootstrap interval):",
  );
  for (const e of result.summary.efficiency) {
    const name = e.unit === "generations" ? "generations (the paper's unit)" : `${UNIT_NAMES[e.unit]} (cost-matched)`;
    const cells = e.perSeed.map((p) =>
      p.status === "measured" ? `${p.ratio}x${p.interval ? ` [${p.interval.lo}, ${p.interval.hi}]` : ""}` : p.status,
    );
    const value = many
      ? e.ratio.median === null
        ? "not measurable"
        : `${e.ratio.median}x [${e.ratio.min}-${e.ratio.max}] (${cells.join("; ")})`
      : `${cells[0]}${e.perSeed[0]?.note ? ` (${e.perSeed[0].note})` : ""}`;
    lines.push(`  N=${e.n}, ${name}: ${value}`);
  }
  for (const p of result.properties)
    lines.push(
      `property ${p.id}: ${p.verdict === "holds" ? "holds" : p.verdict === "fails" ? "FAILS" : "not measurable"} (${p.decidedBy}) — ${p.evidence}`,
    );
  return lines.join("\n") + "\n";
}

runCli("eval", main);
