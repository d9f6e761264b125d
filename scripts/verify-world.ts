/**
 * npm run verify-world -- [--world FILE] [--seed N] [--out DIR] [--threads N]
 *
 * The full-size check of sim-world.md §7: 500 problems, oracle difficulty from 256 samples each, budgets
 * 1…256, every strategy. Prints each property with its numbers, writes the evaluation's files plus
 * properties.md to --out, and exits 1 if any property fails.
 */
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { SingleBar, Presets } from "cli-progress";
import { generateProblems } from "../src/sim/problems";
import { runEvaluation, EVAL_DEFAULTS } from "../src/eval/run";
import { InputError, loadWorld, writeFilesAtomically } from "../src/eval/io";
import { parseStrategies } from "../src/eval/grid";

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({ options: { world: { type: "string" }, seed: { type: "string" }, out: { type: "string" }, threads: { type: "string" } }, strict: true }).values;
  } catch (err) {
    throw new InputError((err as Error).message.split("\n")[0] ?? "bad arguments");
  }
  const world = loadWorld(args.world);
  if (args.seed !== undefined && !/^\d+$/.test(args.seed)) throw new InputError(`--seed must be a non-negative integer, got "${args.seed}"`);
  if (args.threads !== undefined && !/^[1-9]\d*$/.test(args.threads)) throw new InputError(`--threads must be a positive integer, got "${args.threads}"`);
  const seed = Number(args.seed ?? EVAL_DEFAULTS.seed);
  const threads = Number(args.threads ?? Math.max(1, Math.min(availableParallelism(), 8)));
  const out = args.out ?? "out/verify-world";
  const problems = generateProblems(world, seed, EVAL_DEFAULTS.problems).map((r) => ({ id: r.unique_id, question: r.problem, answer: r.answer }));
  const bar = new SingleBar({ format: "verify-world [{bar}] {value}/{total} problems | ETA {eta_formatted}", stream: process.stderr }, Presets.shades_classic);
  const showBar = process.stderr.isTTY;
  if (showBar) bar.start(problems.length, 0);
  const started = Date.now();
  const result = await runEvaluation(
    world,
    problems,
    { seed, budgets: EVAL_DEFAULTS.budgets, strategies: parseStrategies(EVAL_DEFAULTS.strategies + ",revisions-majority"), oracleSamples: EVAL_DEFAULTS.oracleSamples, threads, dataset: "generated" },
    (done) => showBar && bar.update(done),
  ).finally(() => showBar && bar.stop());
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  const eff = result.tables.efficiency.find((e) => e.n === 64);
  const lines = [
    `# verify-world: ${world.name}, seed ${seed}, ${problems.length} problems, ${EVAL_DEFAULTS.oracleSamples} oracle samples each (${seconds} s, ${threads} threads)`,
    "",
    `Efficiency at N=64: compute-optimal matches best-of-N weighted at ${eff?.matchedAt ?? "no budget"} (${eff?.ratio ?? "n/a"}x).`,
    "",
    ...result.properties.map((p) => `${p.id}. **${p.holds === null ? "not measured" : p.holds ? "holds" : "fails"}** — ${p.statement}\n   ${p.evidence}`),
    "",
  ];
  writeFilesAtomically(out, { ...result.files, "properties.md": lines.join("\n") });
  process.stdout.write(lines.join("\n"));
  if (result.properties.some((p) => p.holds !== true)) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`verify-world: ${err instanceof Error ? (err instanceof InputError ? err.message : err.stack) : String(err)}\n`);
  process.exit(err instanceof InputError ? 2 : 1);
});
