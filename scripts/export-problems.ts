/**
 * npm run export-problems -- [--world FILE] [--seed N] [--problems N] --out FILE.jsonl
 *
 * Writes the simulated world's generated problems (the ones `npm run eval`/`calibrate` generate for a seed)
 * as a MATH-500-shaped JSONL ({"unique_id", "problem", "answer", "level", "subject"}), so that calibration
 * through the service (`npm run calibrate -- --dataset`) can be tried end to end against `npm run dev`,
 * which runs on the same world.
 */
import { basename, dirname } from "node:path";
import { InputError, intArg, loadWorld, parseCliArgs, runCli, writeFilesAtomically } from "../src/eval/io";
import { generateProblems } from "../src/sim/problems";

async function main(): Promise<void> {
  const args = parseCliArgs({
    world: { type: "string" },
    seed: { type: "string" },
    problems: { type: "string" },
    out: { type: "string" },
  });
  if (!args.out) throw new InputError("--out FILE.jsonl is required");
  const world = loadWorld(args.world ?? "worlds/default.json");
  const seed = intArg("seed", args.seed, 1, 0);
  const count = intArg("problems", args.problems, 100, 1);
  const rows = generateProblems(world, seed, count);
  writeFilesAtomically(dirname(args.out), {
    [basename(args.out)]: rows.map((r) => JSON.stringify(r)).join("\n") + "\n",
  });
  process.stdout.write(`wrote ${rows.length} problems of world ${world.name}, seed ${seed}, to ${args.out}\n`);
}

runCli("export-problems", main);
