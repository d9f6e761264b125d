/**
 * npm run export-problems -- [--world FILE] [--seed N] [--problems N] --out FILE.jsonl
 *
 * Writes the simulated world's generated problems (the ones `npm run eval`/`calibrate` generate for a seed)
 * as a MATH-500-shaped JSONL ({"unique_id", "problem", "answer", "level", "subject"}), so that calibration
 * through the service (`npm run calibrate -- --dataset`) can be tried end to end against `npm run dev`,
 * which runs on the same world.
 */
import { basename, dirname } from "node:path";
import { loadWorld, writeFilesAtomically } from "../src/eval/io";
import { generateProblems } from "../src/sim/problems";
import { command, InputError, intArg, pick, runMain } from "./cli";

export const exportProblemsCommand = command({
  name: "export-problems",
  usage: ["--out FILE.jsonl [--world FILE] [--seed N] [--problems N]"],
  summary: "Writes the simulated world's generated problems for a seed as a MATH-500 shaped JSONL.",
  options: { ...pick("world", "seed", "problems"), out: { type: "string", arg: "FILE", help: "the JSONL written" } },
  async run(args) {
    if (!args.out) throw new InputError("--out FILE.jsonl is required");
    const world = loadWorld(args.world ?? "worlds/default.json");
    const seed = intArg("seed", args.seed, 1, 0);
    const count = intArg("problems", args.problems, 100, 1);
    const rows = generateProblems(world, seed, count);
    writeFilesAtomically(dirname(args.out), {
      [basename(args.out)]: rows.map((r) => JSON.stringify(r)).join("\n") + "\n",
    });
    process.stdout.write(`wrote ${rows.length} problems of world ${world.name}, seed ${seed}, to ${args.out}\n`);
  },
});

runMain(import.meta.url, exportProblemsCommand);
