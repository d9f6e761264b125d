/**
 * npm run eval -- [--world FILE] [--seed N] [--problems N] [--strategies LIST] [--budgets LIST] [--out DIR]
 *                 [--dataset FILE] [--oracle-samples N] [--threads N]
 *
 * Sweeps strategies over a dataset against the simulated world and writes results.json, results.csv and
 * SVG figures. Same world + seed + arguments => byte-identical results.json.
 */
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { SingleBar, Presets } from "cli-progress";
import { generateProblems } from "../src/sim/problems";
import { runEvaluation, EVAL_DEFAULTS } from "../src/eval/run";
import { InputError, loadDataset, loadWorld, writeFilesAtomically } from "../src/eval/io";
import { configsAt, parseStrategies } from "../src/eval/grid";

function intArg(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min) throw new InputError(`--${name} must be an integer >= ${min}, got "${value}"`);
  return Number(value);
}

function budgetsArg(value: string | undefined): number[] {
  if (value === undefined) return EVAL_DEFAULTS.budgets;
  const out: number[] = [];
  for (const part of value.split(",").map((s) => s.trim()).filter(Boolean)) {
    if (!/^\d+$/.test(part) || Number(part) < 1) throw new InputError(`--budgets: "${part}" is not a budget (an integer >= 1 generation)`);
    if (Number(part) > 4096) throw new InputError(`--budgets: ${part} is above the largest supported budget (4096)`);
    out.push(Number(part));
  }
  if (out.length === 0) throw new InputError("--budgets: no budgets given");
  return [...new Set(out)].sort((a, b) => a - b);
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({
      options: {
        world: { type: "string" },
        seed: { type: "string" },
        problems: { type: "string" },
        strategies: { type: "string" },
        budgets: { type: "string" },
        out: { type: "string" },
        dataset: { type: "string" },
        "oracle-samples": { type: "string" },
        threads: { type: "string" },
        quiet: { type: "boolean" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    throw new InputError((err as Error).message.split("\n")[0] ?? "bad arguments");
  }
  const world = loadWorld(args.world);
  const seed = intArg("seed", args.seed, EVAL_DEFAULTS.seed, 0);
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
  const out = args.out ?? "out/eval";
  const problems = args.dataset
    ? loadDataset(args.dataset).slice(0, args.problems ? count : undefined)
    : generateProblems(world, seed, count).map((r) => ({ id: r.unique_id, question: r.problem, answer: r.answer }));

  const bar = new SingleBar({ format: "eval [{bar}] {value}/{total} problems | {percentage}% | elapsed {duration_formatted} | ETA {eta_formatted}", etaBuffer: 50, stream: process.stderr }, Presets.shades_classic);
  const showBar = !args.quiet && process.stderr.isTTY;
  if (showBar) bar.start(problems.length, 0);
  const started = Date.now();
  const result = await runEvaluation(world, problems, { seed, budgets, strategies, oracleSamples, threads, dataset: args.dataset ?? "generated" }, (done) => showBar && bar.update(done)).finally(() => showBar && bar.stop());
  writeFilesAtomically(out, result.files);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const eff = result.tables.efficiency.map((e) => `N=${e.n}: ${e.ratio === null ? "not matched" : `${e.ratio}x (at ${e.matchedAt})`}`).join(", ");
  process.stdout.write(`wrote ${Object.keys(result.files).join(", ")} to ${out} in ${seconds}s\nefficiency vs best-of-N weighted: ${eff}\n`);
  for (const p of result.properties) process.stdout.write(`property ${p.id}: ${p.holds === null ? "not measured" : p.holds ? "holds" : "FAILS"} — ${p.evidence}\n`);
}

main().catch((err: unknown) => {
  if (err instanceof InputError) {
    process.stderr.write(`eval: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`eval: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
