/**
 * npm run verify-world -- [--world FILE[,FILE…]]… [--seeds LIST | --seed N] [--out DIR] [--threads N]
 *                         [--problems N] [--oracle-samples N] [--budgets LIST] [--strategies LIST] [--resamples N]
 *                         [--cache DIR]
 *
 * The full-size check of sim-world.md §7 on every world in worlds/ (or the --world files): 500 problems,
 * oracle difficulty from 256 samples each, budgets 1…256, every strategy, for each seed. Per world it reports
 * the oracle bins, the seven properties with their test statistics and the efficiency ratio at N = 16, 64
 * and 256 in generations and in cost (tokens, FLOPs, dollars), as median and range over seeds; writes each
 * world's evaluation files under --out/<world>/ and a markdown summary to --out/summary.md. Exits 1 if a
 * property does not hold on the default world (fails, or cannot be measured); other worlds are reported,
 * since conclusions legitimately depend on the world. Each world's diagnostics (src/eval/diagnostics.ts) on
 * the first seed's problems go into the summary and --out/<world>/diagnostics.json. With --cache, finished
 * sweeps are kept in DIR and read back when the world, problems and options are the same (calibrate too).
 */
import { readdirSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { SingleBar, Presets } from "cli-progress";
import { generateProblems } from "../src/sim/problems";
import type { World } from "../src/sim/world";
import { runEvaluations, EVAL_DEFAULTS, type MultiEvaluation, type AcrossSeeds } from "../src/eval/run";
import { DEFAULT_WORLD_FILE, loadWorld, writeFilesAtomically } from "../src/eval/io";
import { UNIT_NAMES, UNITS } from "../src/eval/report";
import type { EvalProblem } from "../src/eval/sweep";
import { diagnoseWorld, formatDiagnostics } from "../src/eval/diagnostics";
import { command, gridArgs, InputError, intArg, pick, runMain, seedOrSeeds, threadsArg, type Values } from "./cli";

const options = {
  world: {
    type: "string",
    arg: "FILE[,FILE…]",
    help: "worlds to check (default: every world in worlds/)",
    multiple: true,
  },
  ...pick("seed", "seeds", "threads", "problems", "oracle-samples", "budgets", "strategies", "resamples", "cache"),
  out: { type: "string", arg: "DIR", help: "where the results and summary.md are written (default out/verify-world)" },
} as const;

export const verifyWorldCommand = command({
  name: "verify-world",
  summary: `The check of sim-world.md §7 on every world in worlds/ (or the --world files): the seven properties
and the efficiency ratios per world, a markdown summary. Exit 1 if a property does not hold on the default world.`,
  options,
  run,
});

const WORLDS_DIR = dirname(DEFAULT_WORLD_FILE);
const HEADLINE_N = [16, 64, 256];

/** The worlds to check: the --world files in order, or every world in worlds/ with the default first. */
function worldFiles(given: string[] | undefined): string[] {
  if (given && given.length) {
    const files = given
      .flatMap((g) => g.split(","))
      .map((f) => f.trim())
      .filter(Boolean);
    if (files.length === 0) throw new InputError("--world: no file given");
    return [...new Set(files.map((f) => resolve(f)))];
  }
  const others = readdirSync(WORLDS_DIR)
    .filter((f) => f.endsWith(".json") && resolve(WORLDS_DIR, f) !== resolve(DEFAULT_WORLD_FILE))
    .sort()
    .map((f) => resolve(WORLDS_DIR, f));
  return [resolve(DEFAULT_WORLD_FILE), ...others];
}

const isDefault = (file: string): boolean => resolve(file) === resolve(DEFAULT_WORLD_FILE);

function fmt(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return "n/a";
  return String(Number(x.toPrecision(digits)));
}

function spread(a: AcrossSeeds, unit = "", digits = 3): string {
  if (a.median === null) return "not measurable";
  if (a.values.length === 1) return `${fmt(a.median, digits)}${unit}`;
  return `${fmt(a.median, digits)}${unit} [${fmt(a.min, digits)}–${fmt(a.max, digits)}]${a.measured < a.values.length ? ` (${a.measured} of ${a.values.length} seeds)` : ""}`;
}

/** The world's diagnostics (per-bin PRM AUROC, revision chain pass@1, …) on one seed's problems. */
async function diagnostics(
  world: World,
  problems: readonly EvalProblem[],
  options: { seed: number; oracleSamples: number },
): Promise<{ text: string; json: string }> {
  const d = await diagnoseWorld(world, problems, options);
  return {
    text: `Diagnostics (seed ${options.seed}):\n\n\`\`\`\n${formatDiagnostics(d)}\n\`\`\``,
    json: JSON.stringify(d, null, 1) + "\n",
  };
}

function worldSection(file: string, name: string, ev: MultiEvaluation, diag: string): string[] {
  const lines: string[] = [];
  const ref = isDefault(file);
  lines.push(
    `## ${name} (${file.startsWith(resolve(".")) ? file.slice(resolve(".").length + 1) : file})${ref ? " — the reference world: a property that does not hold exits 1" : ""}`,
    "",
  );
  lines.push(
    `Oracle pass@1 per bin (mean${ev.summary.seeds.length > 1 ? "; median [range] over seeds" : ""}): ${ev.summary.oracle.map((o) => `bin ${o.bin} ${spread(o.meanPassAt1)}`).join(", ")}.`,
    "",
  );
  lines.push("| # | verdict | decided by | claims and their statistics (pooled over seeds) |", "|---|---|---|---|");
  for (const p of ev.properties) {
    const stats = p.claims
      .map(
        (c) =>
          `${c.detail}${c.pointOnly ? " (a shape condition, read on the point estimate)" : ""}${c.perSeed.length > 1 && !c.notMeasurable ? `; per seed ${c.perSeed.map((x) => fmt(x, 3)).join(", ")}` : ""}`,
      )
      .join("<br>");
    lines.push(
      `| ${p.id} | **${p.verdict}** | ${p.decidedBy.replace(/\|/g, "\\|")} | ${(stats || p.evidence).replace(/\|/g, "\\|")} |`,
    );
  }
  lines.push("");
  lines.push(
    `Efficiency vs. best-of-N weighted: best-of-N's cost at N over compute-optimal's (2-fold CV) at the smallest budget reaching its accuracy${ev.summary.seeds.length > 1 ? "; median [range] over seeds" : "; 95% bootstrap interval"}.`,
    "",
  );
  lines.push(
    `| N | ${UNITS.map((u) => (u === "generations" ? "generations (paper's unit)" : `${UNIT_NAMES[u]} (cost-matched)`)).join(" | ")} |`,
    `|---|${UNITS.map(() => "---").join("|")}|`,
  );
  for (const n of HEADLINE_N) {
    const cells = UNITS.map((u) => {
      const e = ev.summary.efficiency.find((x) => x.unit === u && x.n === n);
      if (!e) return "not in the sweep";
      if (e.perSeed.length === 1) {
        const p = e.perSeed[0];
        if (!p) return "n/a";
        if (p.status !== "measured") return p.note ? `${p.status}: ${p.note}` : p.status;
        return `${fmt(p.ratio)}x${p.interval ? ` [${fmt(p.interval.lo)}, ${fmt(p.interval.hi)}]` : ""}`;
      }
      return spread(e.ratio, "x");
    });
    lines.push(`| ${n} | ${cells.join(" | ")} |`);
  }
  lines.push("", diag, "");
  return lines;
}

async function run(args: Values<typeof options>): Promise<number> {
  const files = worldFiles(args.world);
  // Each world's files go under its file name; two files of one name from different directories get a suffix.
  const worlds = files.map((f, i) => {
    const base = basename(f, ".json");
    const clash = files.slice(0, i).some((g) => basename(g, ".json") === base);
    return { file: f, world: loadWorld(f), name: clash ? `${base}-${i + 1}` : base };
  });
  const seeds = seedOrSeeds(args, [EVAL_DEFAULTS.seed]);
  const threads = threadsArg(args.threads);
  const count = intArg("problems", args.problems, EVAL_DEFAULTS.problems, 10);
  const oracleSamples = intArg("oracle-samples", args["oracle-samples"], EVAL_DEFAULTS.oracleSamples, 1);
  const resamples = args.resamples === undefined ? undefined : intArg("resamples", args.resamples, 0, 10);
  const { strategies, budgets } = gridArgs(args, EVAL_DEFAULTS.strategies + ",revisions-majority");
  const out = args.out ?? "out/verify-world";
  const problemsFor = (world: World, seed: number): EvalProblem[] =>
    generateProblems(world, seed, count).map((r) => ({ id: r.unique_id, question: r.problem, answer: r.answer }));

  const total = worlds.length * seeds.length * count;
  const bar = new SingleBar(
    { format: "verify-world [{bar}] {value}/{total} problems | {world} | ETA {eta_formatted}", stream: process.stderr },
    Presets.shades_classic,
  );
  const showBar = process.stderr.isTTY;
  if (showBar) bar.start(total, 0, { world: "" });
  const started = Date.now();
  const files_: Record<string, string> = {};
  const sections: string[] = [];
  let referenceFails: string[] = [];
  try {
    for (const [w, { file, world, name }] of worlds.entries()) {
      const ev = await runEvaluations(
        world,
        (seed) => problemsFor(world, seed),
        {
          seeds,
          budgets,
          strategies,
          oracleSamples,
          threads,
          dataset: "generated",
          ...(resamples !== undefined ? { resamples } : {}),
          ...(args.cache ? { cacheDir: args.cache } : {}),
        },
        (k, done) => showBar && bar.update((w * seeds.length + k) * count + done, { world: name }),
      );
      for (const [f, content] of Object.entries(ev.files)) files_[`${name}/${f}`] = content;
      const seed0 = seeds[0] as number;
      const diag = await diagnostics(world, problemsFor(world, seed0), { seed: seed0, oracleSamples });
      files_[`${name}/diagnostics.json`] = diag.json;
      sections.push(...worldSection(file, name, ev, diag.text));
      if (isDefault(file))
        referenceFails = ev.properties.filter((p) => p.verdict !== "holds").map((p) => `${p.id} (${p.verdict})`);
    }
  } finally {
    if (showBar) bar.stop();
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  const head = [
    `# verify-world: ${worlds.length} world${worlds.length > 1 ? "s" : ""}, seed${seeds.length > 1 ? "s" : ""} ${seeds.join(",")}, ${count} problems and ${oracleSamples} oracle samples each, budgets ${budgets.join(",")} (${seconds} s, ${threads} thread${threads > 1 ? "s" : ""})`,
    "",
    "A property holds when every claim holds beyond noise (95% bootstrap interval on the claimed side, or a permutation test against equal configurations at p ≤ 0.025) on the pooled seeds, or when every claim holds on at least 4 of 5 seeds. Accuracies at the floor (≤ 2%) or ceiling (≥ 98%) on both sides of a comparison make it not measurable.",
    "",
  ];
  const verdict = worlds.some((w) => isDefault(w.file))
    ? referenceFails.length
      ? `**The default world does not reproduce properties ${referenceFails.join(", ")}.**`
      : "**The default world reproduces all seven properties.**"
    : "(The default world was not among those checked.)";
  const summary = [...head, verdict, "", ...sections].join("\n");
  writeFilesAtomically(out, { ...files_, "summary.md": summary });
  process.stdout.write(summary);
  return referenceFails.length ? 1 : 0;
}

runMain(import.meta.url, verifyWorldCommand);
