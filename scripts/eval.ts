/**
 * npm run eval -- [--world FILE] [--seeds LIST | --seed N] [--problems N] [--strategies LIST] [--budgets LIST]
 *                 [--out DIR] [--dataset FILE] [--oracle-samples N] [--threads N] [--resamples N] [--cache DIR] [--quiet]
 *
 * Sweeps strategies over a dataset against the simulated world and writes results.json, CSV tables and
 * SVG figures. Same world + seeds + arguments => byte-identical results.json.
 */
import { SingleBar, Presets } from "cli-progress";
import { generateProblems } from "../src/sim/problems";
import { runEvaluations, EVAL_DEFAULTS, type MultiEvaluation } from "../src/eval/run";
import { checkSimulatedDataset, loadDatasetRows, loadWorld, writeFilesAtomically } from "../src/eval/io";
import { UNIT_NAMES } from "../src/eval/report";
import { command, gridArgs, intArg, pick, runMain, seedOrSeeds, threadsArg, type Options, type Values } from "./cli";

const options = {
  ...pick("world", "seed", "seeds", "problems", "strategies", "budgets", "out", "oracle-samples", "threads"),
  ...pick("resamples", "cache"),
  dataset: { type: "string", arg: "FILE", help: "a MATH-500 shaped JSONL of the simulated world's problems" },
  quiet: { type: "boolean", help: "no progress bar" },
} as const satisfies Options;

export const evalCommand = command({
  name: "eval",
  summary: `Sweeps strategies over a dataset against the simulated world and writes results.json, CSV tables and
SVG figures. Same world + seeds + arguments => byte-identical results.json.`,
  options: options,
  run,
});

async function run(args: Values<typeof options>): Promise<void> {
  const world = loadWorld(args.world);
  const seeds = seedOrSeeds(args, [EVAL_DEFAULTS.seed]);
  const count = intArg("problems", args.problems, EVAL_DEFAULTS.problems, 10);
  const { strategies, budgets } = gridArgs(args, EVAL_DEFAULTS.strategies);
  const oracleSamples = intArg("oracle-samples", args["oracle-samples"], EVAL_DEFAULTS.oracleSamples, 1);
  const threads = threadsArg(args.threads);
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

runMain(import.meta.url, evalCommand);
