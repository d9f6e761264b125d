/**
 * npm run escalation -- [--world FILE] [--seeds LIST] [--problems N] [--oracle-samples N] [--large-samples N]
 *                       [--threads N] [--cache DIR] [--out FILE]
 *
 * Test-time compute on the small model against the larger model at matched FLOPs (method.md §8), per
 * difficulty bin. With M = P_large / P_small and R = D_inference / D_pretrain, the larger model's extra
 * parameters buy the small model X = M + 3·(M−1)/R times the inference FLOPs of one of its samples (arXiv v1).
 * For R in {0.16, 1, 22} the small model gets cost-matched compute-optimal selection in FLOPs (two-fold
 * cross-validated per bin, as in the evaluation) at the largest FLOPs budget within X single samples' FLOPs,
 * verifier and revision prompts included; the larger model one sample (its pass@1 from --large-samples
 * samples). The sweep is verify-world's, so with the same --cache it is read back.
 */
import { candidateFromCompletion } from "../src/engine/strategies/candidates";
import { mixSeeds } from "../src/engine/random";
import { parseStrategies } from "../src/eval/grid";
import { loadWorld, writeFilesAtomically } from "../src/eval/io";
import { EVAL_DEFAULTS, runEvaluation } from "../src/eval/run";
import { isCorrect } from "../src/eval/sweep";
import { median } from "../src/eval/stats";
import { generateProblems } from "../src/sim/problems";
import { simProviders } from "../src/sim/provider";
import { dirname, basename } from "node:path";
import { command, intArg, pick, runMain, seedsArg, threadsArg, type Values } from "./cli";

const options = {
  ...pick("world", "seeds", "problems", "oracle-samples", "threads", "cache"),
  "large-samples": { type: "string", arg: "N", help: "samples of the larger model per problem (its pass@1)" },
  out: { type: "string", arg: "FILE", help: "where the markdown report is written" },
} as const;

export const escalationCommand = command({
  name: "escalation",
  summary: `Test-time compute on the small model against the larger model at matched FLOPs (method.md §8), per
difficulty bin.`,
  options,
  run,
});

export const R_VALUES = [0.16, 1, 22];

/** The small model's inference-compute multiplier that matches an M-times larger model (method.md §8, arXiv v1). */
export function matchedMultiplier(M: number, R: number): number {
  return M + (3 * (M - 1)) / R;
}

async function run(args: Values<typeof options>): Promise<void> {
  const worldFile = args.world ?? "worlds/default.json";
  const world = loadWorld(worldFile);
  const seeds = args.seeds === undefined ? [1] : seedsArg("--seeds", args.seeds);
  const count = intArg("problems", args.problems, EVAL_DEFAULTS.problems, 20);
  const oracleSamples = intArg("oracle-samples", args["oracle-samples"], EVAL_DEFAULTS.oracleSamples, 8);
  const largeSamples = intArg("large-samples", args["large-samples"], 64, 1);
  const threads = threadsArg(args.threads);
  const budgets = EVAL_DEFAULTS.budgets;
  const strategies = parseStrategies(EVAL_DEFAULTS.strategies + ",revisions-majority");
  const M = world.large.parameters / world.base.parameters;
  const plan = R_VALUES.map((R) => ({ R, x: matchedMultiplier(M, R) }));

  // per R, per bin (0 = all): small model accuracies and large model accuracies over seeds
  const small: number[][][] = plan.map(() => Array.from({ length: 6 }, () => []));
  const large: number[][] = Array.from({ length: 6 }, () => []);
  const smallFlops: number[][][] = plan.map(() => Array.from({ length: 6 }, () => []));
  const largeFlops: number[][] = Array.from({ length: 6 }, () => []);
  for (const seed of seeds) {
    const problems = generateProblems(world, seed, count).map((r) => ({
      id: r.unique_id,
      question: r.problem,
      answer: r.answer,
    }));
    const ev = await runEvaluation(world, problems, {
      seed,
      budgets,
      strategies,
      oracleSamples,
      threads,
      dataset: "generated",
      ...(args.cache ? { cacheDir: args.cache } : {}),
    });
    const bins = ev.matrix.bins;
    // One small-model sample's inference FLOPs (a single sample without the verifier), the unit X multiplies.
    const single = ev.matrix.configs.findIndex((c) => c.config === "best-of-n(n=1,majority)");
    if (single < 0) throw new Error("the sweep lacks best-of-n(n=1,majority)");
    const oneSample = (ev.matrix.cost.flops[single] as Float64Array).reduce((a, b) => a + b, 0) / problems.length;
    // The larger model: one sample per problem, its accuracy the mean over `largeSamples` samples.
    const { providers, costs } = simProviders(world, { generatorModel: "large" });
    const pass: number[] = [];
    const flops: number[] = [];
    for (const [i, p] of problems.entries()) {
      const [res] = await providers.generate("generator", [
        {
          role: "generator",
          question: p.question,
          prefix: [],
          n: largeSamples,
          temperature: EVAL_DEFAULTS.oracleTemperature,
          oneStep: false,
          maxTokens: 1024,
          seed: mixSeeds(seed, 0x1a26e, i),
        },
      ]);
      const right = (res?.completions ?? []).filter((c) =>
        isCorrect(candidateFromCompletion(c).answer, p.answer),
      ).length;
      pass.push(right / largeSamples);
      // 2·P FLOPs per token (method.md), prompt and completion, for one sample.
      const tokens = (res?.usage.promptTokens ?? 0) + (res?.usage.completionTokens ?? 0) / largeSamples;
      flops.push(2 * costs.cards.generator.parameters * tokens);
    }
    for (let b = 0; b <= 5; b++) {
      const members = bins.map((x, i) => (b === 0 || x === b ? i : -1)).filter((i) => i >= 0);
      (large[b] as number[]).push(members.reduce((s, i) => s + (pass[i] as number), 0) / members.length);
      (largeFlops[b] as number[]).push(members.reduce((s, i) => s + (flops[i] as number), 0) / members.length);
      plan.forEach((pl, r) => {
        const target = pl.x * oneSample;
        const rows = ev.tables.costOptimal.filter(
          (o) => o.unit === "flops" && o.bin === (b === 0 ? "all" : b) && o.budget <= target,
        );
        const row = rows.reduce<(typeof rows)[number] | undefined>(
          (best, o) => (!best || o.budget > best.budget ? o : best),
          undefined,
        );
        if (row) {
          (small[r]![b] as number[]).push(row.accuracy);
          (smallFlops[r]![b] as number[]).push(row.spent);
        }
      });
    }
    process.stderr.write(`escalation: seed ${seed} done\n`);
  }

  const pct = (xs: number[]): string =>
    xs.length
      ? `${(100 * median(xs)).toFixed(1)}%${xs.length > 1 ? ` (${(100 * Math.min(...xs)).toFixed(1)}–${(100 * Math.max(...xs)).toFixed(1)})` : ""}`
      : "n/a";
  const lines = [
    `# Escalation: small model + test-time compute vs the ${M.toFixed(0)}× larger model, FLOPs-matched (world ${world.name}, seeds ${seeds.join(",")}, ${count} problems each)`,
    "",
    `Inference FLOPs the larger model's parameters buy the small one, in units of one small-model sample: X = M + 3(M−1)/R (method.md §8, arXiv v1) → ${plan.map((p) => `R=${p.R}: X=${p.x.toFixed(1)}`).join("; ")}.`,
    `Small model: cost-matched compute-optimal in FLOPs (2-fold cross-validated per oracle bin) at the largest FLOPs budget within X samples' FLOPs, verifier and revision prompts counted. Larger model: one sample (pass@1 over ${largeSamples} samples). Median over seeds (range).`,
    "",
    `| bin | larger model, 1 sample | ${plan.map((p) => `small + TTC, R=${p.R} (X=${p.x.toFixed(0)})`).join(" | ")} | winner per R |`,
    `|---|---|${plan.map(() => "---|").join("")}---|`,
  ];
  for (let b = 1; b <= 5; b++) {
    const winners = plan.map((_, r) =>
      median(small[r]![b] as number[]) > median(large[b] as number[]) ? "small" : "large",
    );
    lines.push(
      `| ${b} | ${pct(large[b] as number[])} | ${plan.map((_, r) => pct(small[r]![b] as number[])).join(" | ")} | ${plan.map((p, r) => `R=${p.R}: ${winners[r]}`).join(", ")} |`,
    );
  }
  lines.push(
    `| all | ${pct(large[0] as number[])} | ${plan.map((_, r) => pct(small[r]![0] as number[])).join(" | ")} | |`,
  );
  lines.push(
    "",
    `Mean FLOPs per problem (all bins): larger model ${median(largeFlops[0] as number[]).toExponential(2)}; small + TTC ${plan.map((p, r) => `R=${p.R}: ${median(smallFlops[r]![0] as number[]).toExponential(2)}`).join(", ")} (inference only, held out; the matching counts the larger model's extra pretraining).`,
    "",
  );
  const report = lines.join("\n");
  if (args.out) writeFilesAtomically(dirname(args.out), { [basename(args.out)]: report });
  process.stdout.write(report);
}

runMain(import.meta.url, escalationCommand);
