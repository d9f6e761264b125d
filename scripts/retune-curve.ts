/**
 * npm run retune-curve -- [--world FILE] [--seeds LIST] [--problems N] [--oracle-samples N] [--explore SHARE]
 *                         [--every N] [--cache DIR] [--threads N] [--report FILE]
 *
 * How many labelled outcomes a policy needs to learn from feedback alone, with no calibration run. For each
 * held-out seed h of `--seeds`, the other seeds' problems arrive one by one as auto solves of a service that
 * starts cold:
 *
 * - the cold policy knows each candidate configuration's cost (cost needs no label: the service sees it on
 *   every solve) but no accuracy and no difficulty: every prompt falls in one bin, its arms are best-of-N
 *   weighted at each size (what one runs without a policy), and every other configuration is an alternative;
 * - each solve takes the active policy's choice at the cap, or with probability `--explore` an alternative
 *   that fits the cap (`decideAuto`, as the service does), and its outcome (right or wrong, and its cost) is
 *   what the sweep measured for that configuration on that problem;
 * - every `--every` outcomes the service's re-tune runs (`retunePolicy`: refit, two-fold replay, promote only
 *   if not worse), from at least 200 outcomes on.
 *
 * After each re-tune the active policy is measured on seed h's problems (never seen) at the same cap, against
 * the policy a full calibration fits on the same stream problems (every configuration's outcome on every
 * problem, `fitPolicy`). Accuracy per token itself would rank the cheapest arm first, so both sides of it are
 * held to 90%: the learned policy's accuracy is at least 90% of the calibrated one's at the same cap, and its
 * efficiency at least 90%, efficiency being the mean cost at which the calibrated policy's held-out curve (over
 * caps) first reaches the learned policy's accuracy, over the learned policy's mean cost. The figure is the
 * number of outcomes after which both first hold.
 */
import { writeFileSync } from "node:fs";
import { Rng } from "../src/engine/random";
import { concatOutcomes } from "../src/eval/outcomes";
import { seedOutcomes } from "../src/eval/seedOutcomes";
import { EVAL_DEFAULTS } from "../src/eval/run";
import { loadWorld } from "../src/eval/io";
import { median } from "../src/eval/stats";
import { decideAuto } from "../src/policy/auto";
import { parsePolicy, type PolicyDocument } from "../src/policy/document";
import { featureNames, promptFeatures } from "../src/policy/features";
import { costBudgets, fitPolicy, policyCurve, quantile, type OutcomeData } from "../src/policy/fit";
import { retunePolicy, type LoggedOutcome } from "../src/policy/retune";
import { command, InputError, intArg, pick, runMain, seedsArg, threadsArg, type Values } from "./cli";

const options = {
  ...pick("world", "problems", "oracle-samples", "cache", "threads", "report"),
  seeds: { type: "string", arg: "LIST", help: "at least two seeds, comma-separated (default 1,2,3)" },
  explore: { type: "string", arg: "SHARE", help: "the share of solves that explore (default 0.2)" },
  every: { type: "string", arg: "N", help: "outcomes between re-tunes (default 100)" },
} as const;

export const retuneCurveCommand = command({
  name: "retune-curve",
  summary: "How many labelled outcomes a policy needs to learn from feedback alone, with no calibration run.",
  options,
  run,
});

const MIN_OUTCOMES = 200;

/** The cold-start policy: costs from the stream (unlabelled), no accuracy, one bin, best-of-N weighted as its arms. */
function coldPolicy(stream: OutcomeData, cap: number): PolicyDocument {
  const names = featureNames();
  const n = stream.prompts.length;
  const costOf = (c: number) => {
    const t = [...(stream.tokens[c] as Float64Array)].sort((a, b) => a - b);
    const g = stream.generations[c] as Float64Array;
    return {
      meanCost: t.reduce((a, b) => a + b, 0) / n,
      highCost: quantile(t, 0.9),
      meanGenerations: g.reduce((a, b) => a + b, 0) / n,
    };
  };
  const arms: PolicyDocument["arms"] = [];
  const alternatives: PolicyDocument["alternatives"] = [];
  stream.configs.forEach((cfg, c) => {
    const cost = costOf(c);
    const isBoN =
      cfg.spec.strategy === "best-of-n" && cfg.spec.selection === "weighted" && cfg.spec.stopAt === undefined;
    for (let bin = 1; bin <= 5; bin++) {
      if (isBoN)
        arms.push({
          bin,
          budget: Math.max(1, cost.meanCost),
          config: cfg.config,
          spec: cfg.spec,
          evidence: { accuracy: 0.5, lo: 0, hi: 1, count: 0, ...cost },
        });
      else alternatives.push({ bin, config: cfg.config, spec: cfg.spec, count: 0, ...cost });
    }
  });
  const doc = {
    format: "ttc-policy/1",
    version: "cold-start",
    createdAt: new Date(0).toISOString(),
    source: {
      kind: "calibration",
      dataset: "none (cold start: costs only)",
      seed: 0,
      problems: 1,
      oracleSamples: 1,
      command: "retune-curve cold start",
    },
    costUnit: "tokens",
    probe: null,
    estimator: {
      kind: "ridge-text",
      features: names,
      means: names.map(() => 0),
      scales: names.map(() => 1),
      weights: names.map(() => 0),
      bias: 0,
      lambda: 1,
      thresholds: [0, 0, 0, 0],
      cvError: 0,
    },
    defaultBudget: cap,
    arms,
    alternatives,
  };
  const r = parsePolicy(doc);
  if (!r.ok) throw new Error(`cold-start policy: ${r.error}`);
  return r.policy;
}

interface Point {
  outcomes: number;
  version: string;
  promoted: boolean;
  accuracy: number;
  meanTokens: number;
  /** Accuracy over the calibrated policy's at the same cap, on the held-out problems. */
  relative: number;
  /** The calibrated policy's mean cost to reach this accuracy over this policy's (Infinity: it never does). */
  efficiency: number;
}

interface Run {
  heldOut: number;
  calibrated: { accuracy: number; meanTokens: number };
  cold: { accuracy: number; meanTokens: number; relative: number; efficiency: number };
  points: Point[];
  reached: Point | null;
}

async function run(args: Values<typeof options>): Promise<void> {
  const worldFile = args.world ?? "worlds/default.json";
  const world = loadWorld(worldFile);
  const seeds = seedsArg("--seeds", args.seeds ?? "1,2,3");
  if (seeds.length < 2)
    throw new InputError(
      "--seeds needs at least two seeds: the others' problems are the stream, each in turn held out",
    );
  const problems = intArg("problems", args.problems, EVAL_DEFAULTS.problems, 20);
  const oracleSamples = intArg("oracle-samples", args["oracle-samples"], EVAL_DEFAULTS.oracleSamples, 8);
  const every = intArg("every", args.every, 100, 10);
  const threads = threadsArg(args.threads);
  const explore = args.explore === undefined ? 0.2 : Number(args.explore);
  if (!(explore > 0 && explore < 1))
    throw new InputError(`--explore must be a share between 0 and 1 (exclusive), got "${args.explore}"`);

  const data: OutcomeData[] = [];
  for (const seed of seeds)
    data.push(
      await seedOutcomes(world, seed, {
        problems,
        oracleSamples,
        budgets: EVAL_DEFAULTS.budgets,
        threads,
        ...(args.cache ? { cacheDir: args.cache } : {}),
      }),
    );

  const runs: Run[] = [];
  for (let h = 0; h < seeds.length; h++) {
    const heldOut = data[h] as OutcomeData;
    const stream = concatOutcomes(data.filter((_, i) => i !== h));
    const calibrated = fitPolicy(stream, {
      seed: seeds[h] as number,
      version: "calibrated",
      createdAt: "",
      source: {
        kind: "calibration",
        dataset: "generated",
        seed: 0,
        problems: stream.prompts.length,
        oracleSamples,
        command: "",
      },
    });
    const cap = calibrated.defaultBudget;
    const at = (p: PolicyDocument) => policyCurve(p, heldOut, [cap])[0] as { accuracy: number; meanTokens: number };
    const ref = at(calibrated);
    // The calibrated policy's held-out curve over caps: what it reaches at each mean cost.
    const highs = calibrated.arms.map((a) => a.evidence.highCost);
    const curve = policyCurve(calibrated, heldOut, costBudgets(Math.min(...highs) / 4, Math.max(...highs) * 4));
    const costToReach = (accuracy: number) =>
      Math.min(...curve.filter((p) => p.accuracy >= accuracy - 1e-12).map((p) => p.meanTokens));
    const judge = (m: { accuracy: number; meanTokens: number }) => ({
      relative: m.accuracy / ref.accuracy,
      efficiency: costToReach(m.accuracy) / m.meanTokens,
    });
    let active = coldPolicy(stream, cap);
    const coldAt = at(active);
    const cold = { ...coldAt, ...judge(coldAt) };
    const index = new Map(stream.configs.map((c, i) => [c.config, i]));
    const rng = new Rng(0x5eed ^ (seeds[h] as number));
    const order = stream.prompts.map((_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      [order[i], order[j]] = [order[j] as number, order[i] as number];
    }
    const log: LoggedOutcome[] = [];
    const points: Point[] = [];
    let reached: Point | null = null;
    for (const p of order) {
      const prompt = stream.prompts[p] as string;
      const d = decideAuto(active, prompt, cap, undefined, { share: explore, draw: rng.next() });
      const c = index.get(d.config);
      if (c === undefined) throw new Error(`${d.config} is not among the swept configurations`);
      log.push({
        solveId: `${seeds[h]}:${p}`,
        features: promptFeatures(prompt),
        spec: d.strategy,
        tokens: (stream.tokens[c] as Float64Array)[p] as number,
        money: (stream.money[c] as Float64Array)[p] as number,
        flops: (stream.flops[c] as Float64Array)[p] as number,
        generations: (stream.generations[c] as Float64Array)[p] as number,
        correct: ((stream.correct[c] as Uint8Array)[p] as number) === 1,
        capTokens: cap,
        capCost: null,
        maxGenerations: null,
        exploration: d.exploration,
        propensity: d.propensity,
      });
      if (log.length < MIN_OUTCOMES || log.length % every !== 0) continue;
      const r = retunePolicy(active, log, {
        version: `learned-${log.length}`,
        createdAt: new Date(0).toISOString(),
        seed: log.length,
        minOutcomes: MIN_OUTCOMES,
      });
      const promoted = r.ok && r.promote;
      if (r.ok && r.promote) {
        active = r.candidate;
        process.stderr.write(`retune-curve: held out ${seeds[h]}: promoted at ${log.length}: ${r.reason}\n`);
      }
      const m = at(active);
      const point = {
        outcomes: log.length,
        version: active.version,
        promoted,
        accuracy: m.accuracy,
        meanTokens: m.meanTokens,
        ...judge(m),
      };
      points.push(point);
      if (!reached && point.relative >= 0.9 && point.efficiency >= 0.9) reached = point;
      process.stderr.write(
        `retune-curve: held out ${seeds[h]}: ${log.length} outcomes, ${promoted ? "promoted" : "kept"} ${active.version}: ${(100 * m.accuracy).toFixed(1)}% at ${Math.round(m.meanTokens)} tokens (calibrated ${(100 * ref.accuracy).toFixed(1)}% at ${Math.round(ref.meanTokens)}), ${(100 * point.relative).toFixed(0)}% of its accuracy, ${point.efficiency === Infinity ? "beyond its reach" : `${(100 * point.efficiency).toFixed(0)}% of its efficiency`}\n`,
      );
    }
    runs.push({ heldOut: seeds[h] as number, calibrated: ref, cold, points, reached });
  }

  const command = `npm run retune-curve -- --world ${worldFile} --seeds ${seeds.join(",")} --problems ${problems} --explore ${explore} --every ${every}${args.cache ? ` --cache ${args.cache}` : ""}`;
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const rel = (x: { relative: number; efficiency: number }) =>
    `${(100 * x.relative).toFixed(0)}%, ${x.efficiency === Infinity ? "more accurate than calibrated ever is" : `${(100 * x.efficiency).toFixed(0)}%`}`;
  const reachedCounts = runs.map((r) => r.reached?.outcomes ?? null);
  const got = reachedCounts.filter((x): x is number => x !== null);
  const lines = [
    `# Re-tuning from feedback alone, world ${world.name}`,
    "",
    `Command: \`${command}\``,
    "",
    `Cold start (costs only), exploration share ${explore}, a re-tune every ${every} outcomes from ${MIN_OUTCOMES} on; measured on the held-out seed's ${problems} problems at the calibrated policy's default cap. Efficiency: the mean tokens at which the calibrated policy's held-out curve first reaches the same accuracy, over the policy's own.`,
    "",
    "| held out | calibrated (full labels), at its default cap | cold start (accuracy, efficiency relative to calibrated) | outcomes until 90% of the calibrated accuracy and efficiency | there | after all outcomes |",
    "|---|---|---|---|---|---|",
    ...runs.map((r) => {
      const last = r.points[r.points.length - 1];
      const show = (x: { accuracy: number; meanTokens: number } | undefined | null) =>
        x ? `${pct(x.accuracy)} at ${Math.round(x.meanTokens)} tokens` : "—";
      return `| ${r.heldOut} | ${show(r.calibrated)} | ${show(r.cold)} (${rel(r.cold)}) | ${r.reached ? r.reached.outcomes : `not within ${last?.outcomes ?? 0}`} | ${show(r.reached)} | ${show(last)} (${last ? rel(last) : "—"}) |`;
    }),
    "",
    got.length
      ? `Outcomes needed: median ${median(got)} (range ${Math.min(...got)}–${Math.max(...got)})${got.length < runs.length ? `; not reached in ${runs.length - got.length} of ${runs.length} runs` : ""}.`
      : "Not reached in any run.",
    "",
  ];
  const text = lines.join("\n");
  process.stdout.write(text);
  if (args.report) writeFileSync(args.report, text);
}

runMain(import.meta.url, retuneCurveCommand);
