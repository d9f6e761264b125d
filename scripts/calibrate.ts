/**
 * npm run calibrate -- [--world FILE] [--seeds LIST] [--problems N] [--oracle-samples N] [--strategies LIST]
 *                      [--extra-strategies LIST] [--budgets LIST] [--threads N] [--out FILE] [--report FILE]
 *                      [--cache DIR] [--probe best|0|4|8] [--cost-unit tokens|money|flops]
 *
 * npm run calibrate -- --dataset FILE.jsonl --service URL --key KEY [--strategies LIST] [--budgets LIST]
 *                      [--oracle-samples K] [--seed N] [--problems N] [--concurrency N] [--solve-tokens N]
 *                      [--skip-invalid-rows] [--out FILE] [--report FILE]
 *
 * With --dataset: calibration through a running service (scripts/calibrateService.ts). Without:
 * runs labelled problems of the simulated world through every candidate configuration (in process), fits a
 * compute-optimal policy (free difficulty estimator + per-bin arms, method.md §6–§7) and writes it. With
 * several seeds it also measures the policy honestly: fitted on one seed's problems, measured on the next
 * seed's (disjoint problems, fresh samples), each pair in turn, reporting median and range. The shipped
 * policy is fitted on all seeds' problems together.
 *
 * `--strategies` defaults to verify-world's list, so with the same `--cache` its sweeps are read back;
 * `--extra-strategies` (default: adaptive best-of-N) are swept separately and joined problem by problem.
 *
 * `--cost-unit money|flops` fits the policy in dollars or FLOPs instead of tokens, and adds the escalation
 * candidates (the larger model, greedy-to-16 samples) to the extra strategies: a larger model's token is not a
 * small model's, so only a priced unit can tell where it wins (method.md §8). Such a policy chooses from the
 * text alone (no probe), and the report measures it against the same policy fitted without the larger model.
 */
import { createHash } from "node:crypto";
import { describeSpec, runsOnLargeModel, type StrategySpec } from "../src/engine/strategies";
import { configsAt, parseStrategies } from "../src/eval/grid";
import { loadWorld, writeFilesAtomically } from "../src/eval/io";
import { runSweep } from "../src/eval/pool";
import { EVAL_DEFAULTS } from "../src/eval/run";
import { median } from "../src/eval/stats";
import type { ProblemResult } from "../src/eval/sweep";
import {
  CALIBRATE_EXTRA,
  CALIBRATE_LARGE,
  CALIBRATE_STRATEGIES,
  concatOutcomes,
  costRatio,
  keepConfigs,
  onLargeModel,
  outcomeData,
  type Ratio,
} from "../src/eval/outcomes";
import { parseCostUnit, UNITS, type CostUnit } from "../src/engine/meter";
import { parsePolicy } from "../src/policy/document";
import { costBudgets, costsIn, fitArms, fitPolicy, policyCurve, type OutcomeData } from "../src/policy/fit";
import { generateProblems } from "../src/sim/problems";
import { simProviders } from "../src/sim/provider";
import { mixSeeds } from "../src/engine/random";
import { candidateFromCompletion, withScores } from "../src/engine/strategies/candidates";
import { probeFeatures } from "../src/policy/probe";
import type { World } from "../src/sim/world";
import { configSeed, type EvalProblem } from "../src/eval/sweep";
import { StrategySpecSchema } from "../src/engine/strategies";
import { dirname, basename } from "node:path";
import { calibrateDataset, IN_PROCESS_ONLY } from "./calibrateService";
import { command, InputError, intArg, pick, runMain, seedsArg, threadsArg, type Values } from "./cli";

const DEFAULT_STRATEGIES = CALIBRATE_STRATEGIES;
const DEFAULT_EXTRA = CALIBRATE_EXTRA;

/** Probe sample counts tried; 0 is the free estimator alone. */
const PROBE_SIZES = [0, 4, 8];

/**
 * Run a k-sample verifier probe on every problem (in process): its features and its cost in tokens. Its
 * samples are drawn as the first k of the problem's best-of-N pool in the sweep (same seed, same request),
 * so what the probe saw is part of what a best-of-N arm given them as candidates selects from.
 */
async function runProbe(
  world: World,
  problems: readonly EvalProblem[],
  seed: number,
  k: number,
): Promise<NonNullable<OutcomeData["probe"]>> {
  const { providers } = simProviders(world);
  const features: number[][] = [];
  const tokens = new Float64Array(problems.length);
  const completion = new Float64Array(problems.length);
  const scoring = new Float64Array(problems.length);
  for (const [i, p] of problems.entries()) {
    const pool = configSeed(seed, i, StrategySpecSchema.parse({ strategy: "best-of-n", n: k }), k);
    const [res] = await providers.generate("generator", [
      {
        role: "generator",
        question: p.question,
        prefix: [],
        n: k,
        temperature: EVAL_DEFAULTS.oracleTemperature,
        oneStep: false,
        maxTokens: 1024,
        seed: mixSeeds(pool, 1),
      },
    ]);
    const drafts = (res?.completions ?? []).map(candidateFromCompletion);
    const scores = await providers.score(drafts.map((c) => ({ question: p.question, steps: c.steps })));
    const scored = drafts.map((c, j) => withScores(c, scores[j] as (typeof scores)[number], "last"));
    features.push(probeFeatures(scored));
    completion[i] = res?.usage.completionTokens ?? 0;
    scoring[i] = scores.reduce((t, r) => t + r.usage.promptTokens + r.usage.completionTokens, 0);
    tokens[i] = (res?.usage.promptTokens ?? 0) + (completion[i] as number) + (scoring[i] as number);
  }
  return {
    samples: k,
    temperature: EVAL_DEFAULTS.oracleTemperature,
    features,
    tokens,
    reusable: { completion, scoring },
  };
}

function withProbe(d: OutcomeData, probe: OutcomeData["probe"]): OutcomeData {
  const { probe: _old, ...rest } = d;
  return probe ? { ...rest, probe } : rest;
}

/** Oracle bins: quintiles of pass@1, bin 1 the easiest (as the evaluation bins). */
function oracleBins(passAt1: readonly number[]): number[] {
  const order = passAt1.map((_, i) => i).sort((a, b) => (passAt1[b] as number) - (passAt1[a] as number) || a - b);
  const bins = new Array<number>(passAt1.length).fill(0);
  order.forEach((idx, rank) => (bins[idx] = Math.min(5, Math.floor((rank * 5) / passAt1.length) + 1)));
  return bins;
}

interface PairResult {
  fit: number;
  heldOut: number;
  /** Best-of-N weighted at N = 64: accuracy and mean cost in the policy's unit. */
  bestOfN: { accuracy: number; meanCost: number };
  /**
   * Per probe size (0: text alone): with adaptive arms, and with fixed-N arms only; and at the operating cap
   * chosen on the fit seed alone (where its own curve first reaches its own best-of-N@64 accuracy), the
   * held-out accuracy minus best-of-N's and the token ratio there.
   */
  byProbe: Map<number, { adaptive: Ratio; fixed: Ratio; operating: { deltaPts: number; ratio: number } | null }>;
  oracle: Ratio;
  /** With escalation candidates: the same policy fitted without the larger model. */
  smallOnly?: Ratio;
}

/** The same outcomes without the adaptive configurations (every candidate spends its whole N). */
function fixedOnly(d: OutcomeData): OutcomeData {
  return keepConfigs(d, (c) => !(c.spec.strategy === "best-of-n" && c.spec.stopAt !== undefined));
}

const byCost = (p: { accuracy: number; meanCost: number }) => p.meanCost;

const options = {
  ...pick("world", "seeds", "problems", "oracle-samples", "strategies", "budgets", "threads", "cache"),
  "extra-strategies": { type: "string", arg: "LIST", help: "swept separately and joined (default adaptive best-of-N)" },
  out: { type: "string", arg: "FILE", help: "the policy written (default policies/<world>.json)" },
  report: { type: "string", arg: "FILE", help: "where the markdown report is written" },
  probe: { type: "string", arg: "best|0|4|8", help: "the verifier probe's samples (default best)" },
  "cost-unit": { type: "string", arg: "tokens|money|flops", help: "the unit the policy is fitted in" },
  // Calibration through a running service (scripts/calibrateService.ts).
  dataset: { type: "string", arg: "FILE.jsonl", help: "calibrate through a service on this dataset" },
  ...pick("service", "key", "seed", "concurrency"),
  "solve-tokens": { type: "string", arg: "N", help: "with --dataset: each solve's token cap" },
  "skip-invalid-rows": { type: "boolean", help: "with --dataset: skip rows that do not parse" },
} as const;

export const calibrateCommand = command({
  name: "calibrate",
  usage: [
    "[--world FILE] [--seeds LIST] [--problems N] [--cost-unit tokens|money|flops] [options]",
    "--dataset FILE.jsonl --service URL --key KEY [options]",
  ],
  summary: `Fits a compute-optimal policy (difficulty estimator + per-bin arms) on the simulated world in process,
or with --dataset through a running service, writes it and reports how it does held out.`,
  options,
  run,
});

async function run(args: Values<typeof options>): Promise<void> {
  if (args.dataset !== undefined) {
    const stray = IN_PROCESS_ONLY.filter((o) => args[o] !== undefined);
    if (stray.length)
      throw new InputError(
        `--${stray[0]} is for the in-process calibration on the simulated world; with --dataset the service's providers are calibrated`,
      );
    return calibrateDataset({ ...args, dataset: args.dataset });
  }
  const serviceOnly = (["service", "key", "seed", "concurrency", "solve-tokens", "skip-invalid-rows"] as const).filter(
    (o) => args[o] !== undefined,
  );
  if (serviceOnly.length)
    throw new InputError(
      `--${serviceOnly[0]} is for calibration through a service: give --dataset FILE.jsonl --service URL --key KEY`,
    );
  const worldFile = args.world ?? "worlds/default.json";
  const world = loadWorld(worldFile);
  const seeds = args.seeds === undefined ? [1] : seedsArg("--seeds", args.seeds);
  const count = intArg("problems", args.problems, EVAL_DEFAULTS.problems, 20);
  const oracleSamples = intArg("oracle-samples", args["oracle-samples"], EVAL_DEFAULTS.oracleSamples, 8);
  const threads = threadsArg(args.threads);
  const budgets =
    args.budgets === undefined
      ? EVAL_DEFAULTS.budgets
      : args.budgets.split(",").map((b) => intArg("budgets", b.trim(), 0, 1));
  if (!budgets.includes(64))
    throw new InputError("--budgets must include 64 (the policy is measured against best-of-N weighted at N = 64)");
  const parsedUnit = parseCostUnit(args["cost-unit"] ?? "tokens");
  if (!parsedUnit.ok) throw new InputError(`--cost-unit ${parsedUnit.error}`);
  const unit: CostUnit = parsedUnit.unit;
  const probeSizes = unit === "tokens" ? PROBE_SIZES : [0];
  let strategies;
  let extra;
  try {
    strategies = parseStrategies(args.strategies ?? DEFAULT_STRATEGIES);
  } catch (err) {
    throw new InputError(`--strategies: ${(err as Error).message}`);
  }
  try {
    extra =
      args["extra-strategies"] === ""
        ? []
        : parseStrategies(args["extra-strategies"] ?? DEFAULT_EXTRA).filter(
            (e) => !strategies.some((s) => s.name === e.name),
          );
  } catch (err) {
    throw new InputError(`--extra-strategies: ${(err as Error).message}`);
  }
  // Escalation candidates, swept on their own (so the other sweeps' cache is read back as it is).
  const escalation =
    unit === "tokens"
      ? []
      : parseStrategies(CALIBRATE_LARGE).filter((e) => ![...strategies, ...extra].some((s) => s.name === e.name));
  if (!strategies.some((s) => s.family === "best-of-n"))
    throw new InputError("--strategies must include best-of-n (the policy is measured against it)");
  const specs = new Map<string, StrategySpec>();
  for (const entry of [...strategies, ...extra, ...escalation]) {
    for (const budget of budgets) {
      const grid = configsAt(entry, budget);
      if (!grid.ok) throw new InputError(`--strategies/--budgets: ${grid.error}`);
      for (const c of grid.configs) specs.set(describeSpec(c.spec), c.spec);
    }
  }
  const out = args.out ?? `policies/${world.name}.json`;
  const probeArg = args.probe ?? "best";
  if (probeArg !== "best" && !PROBE_SIZES.includes(Number(probeArg)))
    throw new InputError(`--probe must be best or one of ${PROBE_SIZES.join(", ")}, got "${probeArg}"`);
  if (unit !== "tokens" && probeArg !== "best" && probeArg !== "0")
    throw new InputError(`--probe: a policy in ${unit} chooses from the text alone (give --probe 0, or fit in tokens)`);
  if (unit === "tokens" && [...strategies, ...extra].some((e) => e.name.startsWith("large")))
    throw new InputError(
      "the larger model's candidates need --cost-unit money or flops: its tokens are not the small model's",
    );

  const data: OutcomeData[] = [];
  const probes: Map<number, NonNullable<OutcomeData["probe"]>>[] = [];
  for (const seed of seeds) {
    const problems = generateProblems(world, seed, count).map((r) => ({
      id: r.unique_id,
      question: r.problem,
      answer: r.answer,
    }));
    const started = Date.now();
    const pool = { threads, ...(args.cache ? { cacheDir: args.cache } : {}) };
    const results = await runSweep(
      world,
      problems,
      { seed, strategies, budgets, oracleSamples, oracleTemperature: EVAL_DEFAULTS.oracleTemperature },
      pool,
    );
    if (extra.length) {
      // Same seed, same problems, same oracle samples: the extra configurations' records join each problem's.
      const more = await runSweep(
        world,
        problems,
        { seed, strategies: extra, budgets, oracleSamples, oracleTemperature: EVAL_DEFAULTS.oracleTemperature },
        pool,
      );
      more.forEach((r, i) => (results[i] as ProblemResult).records.push(...r.records));
    }
    if (escalation.length) {
      const more = await runSweep(
        world,
        problems,
        { seed, strategies: escalation, budgets, oracleSamples, oracleTemperature: EVAL_DEFAULTS.oracleTemperature },
        pool,
      );
      more.forEach((r, i) => (results[i] as ProblemResult).records.push(...r.records));
    }
    process.stderr.write(
      `calibrate: seed ${seed}: ${problems.length} problems through ${results[0]?.records.length ?? 0} configurations in ${((Date.now() - started) / 1000).toFixed(0)} s\n`,
    );
    data.push(
      outcomeData(
        results,
        problems.map((p) => p.question),
        oracleSamples,
        specs,
      ),
    );
    const byK = new Map<number, NonNullable<OutcomeData["probe"]>>();
    for (const k of probeSizes) if (k > 0) byK.set(k, await runProbe(world, problems, seed, k));
    probes.push(byK);
  }

  const command = `npm run calibrate -- --world ${worldFile} --seeds ${seeds.join(",")} --problems ${count} --oracle-samples ${oracleSamples}${args.strategies ? ` --strategies ${args.strategies}` : ""}${args["extra-strategies"] !== undefined ? ` --extra-strategies '${args["extra-strategies"]}'` : ""}${args.probe ? ` --probe ${args.probe}` : ""}${unit !== "tokens" ? ` --cost-unit ${unit}` : ""}`;
  const attach = (d: OutcomeData, i: number, k: number): OutcomeData =>
    withProbe(d, k > 0 ? (probes[i] as Map<number, NonNullable<OutcomeData["probe"]>>).get(k) : undefined);

  // Honest measurement: fit on seed i, measure on seed i+1 (cyclically), for each probe size.
  const pairs: PairResult[] = [];
  if (data.length >= 2) {
    for (let i = 0; i < data.length; i++) {
      const j1 = (i + 1) % data.length;
      const base = data[j1] as OutcomeData;
      const bonIndex = base.configs.findIndex(
        (c) => c.spec.strategy === "best-of-n" && c.spec.n === 64 && c.spec.selection === "weighted",
      );
      const n = base.prompts.length;
      const baseCost = costsIn(base, unit);
      let k = 0;
      let t = 0;
      for (let j = 0; j < n; j++) {
        k += (base.correct[bonIndex] as Uint8Array)[j] as number;
        t += (baseCost[bonIndex] as Float64Array)[j] as number;
      }
      const bon = { accuracy: k / n, meanCost: t / n };
      const byProbe: PairResult["byProbe"] = new Map();
      let caps: number[] = [];
      let smallOnly: Ratio | undefined;
      for (const size of probeSizes) {
        const train = attach(data[i] as OutcomeData, i, size);
        const test = attach(base, j1, size);
        const p = fitPolicy(train, {
          seed: seeds[i] as number,
          costUnit: unit,
          version: "pair",
          createdAt: "",
          source: {
            kind: "calibration",
            dataset: "generated",
            seed: seeds[i] as number,
            problems: n,
            oracleSamples,
            command: "",
          },
        });
        const highs = p.arms.map((a) => a.evidence.highCost);
        caps = costBudgets(Math.min(...highs) / 2, Math.max(...highs) * 4);
        const fixedPolicy = fitPolicy(fixedOnly(train), {
          seed: seeds[i] as number,
          costUnit: unit,
          version: "pair-fixed",
          createdAt: "",
          source: p.source,
        });
        if (unit !== "tokens" && size === 0) {
          const small = (d: OutcomeData) => keepConfigs(d, (c) => !onLargeModel(c));
          const smallPolicy = fitPolicy(small(train), {
            seed: seeds[i] as number,
            costUnit: unit,
            version: "pair-small",
            createdAt: "",
            source: p.source,
          });
          smallOnly = costRatio(bon, policyCurve(smallPolicy, small(test), caps), byCost);
        }
        // The operating point chosen without the held-out data: the first cap where the fit seed's own curve
        // reaches the fit seed's best-of-N@64 accuracy.
        const trainBon = train.correct[bonIndex] as Uint8Array;
        const trainBonAcc = trainBon.reduce((a, b) => a + b, 0) / trainBon.length;
        const chosen = policyCurve(p, train, caps).find((pt) => pt.accuracy >= trainBonAcc);
        const held = chosen ? (policyCurve(p, test, [chosen.cap])[0] as { accuracy: number; meanCost: number }) : null;
        const operating = held
          ? { deltaPts: 100 * (held.accuracy - bon.accuracy), ratio: bon.meanCost / held.meanCost }
          : null;
        byProbe.set(size, {
          adaptive: costRatio(bon, policyCurve(p, test, caps), byCost),
          fixed: costRatio(bon, policyCurve(fixedPolicy, fixedOnly(test), caps), byCost),
          operating,
        });
      }
      // The same arms fitted and applied with oracle bins: what a perfect (and free) difficulty estimate would give.
      const train = data[i] as OutcomeData;
      const oracleArms = fitArms(train, oracleBins(train.passAt1), unit);
      const testBins = oracleBins(base.passAt1);
      const index = new Map(base.configs.map((c, j) => [c.config, j]));
      const oracleCurve = caps.map((cap) => {
        let kk = 0;
        let tt = 0;
        for (let j = 0; j < n; j++) {
          const arms = oracleArms.filter((a) => a.bin === testBins[j]).sort((x, y) => x.budget - y.budget);
          const fit = arms.filter((a) => a.evidence.highCost <= cap);
          const arm = fit.length ? fit[fit.length - 1] : arms[0];
          const c = index.get(arm?.config ?? "") as number;
          kk += (base.correct[c] as Uint8Array)[j] as number;
          tt += (baseCost[c] as Float64Array)[j] as number;
        }
        return { accuracy: kk / n, meanCost: tt / n };
      });
      pairs.push({
        fit: seeds[i] as number,
        heldOut: seeds[j1] as number,
        bestOfN: bon,
        byProbe,
        oracle: costRatio(bon, oracleCurve, byCost),
        ...(smallOnly ? { smallOnly } : {}),
      });
    }
  }

  // The probe size to ship: the best median held-out ratio (the smaller size on a tie); with one seed, none.
  // A pair where the policy never reaches best-of-N's accuracy counts as 0.
  const medianOf = (xs: (number | null)[]): number => (xs.length ? median(xs.map((x) => x ?? 0)) : 0);
  let shipK = 0;
  if (probeArg === "best") {
    for (const size of probeSizes)
      if (
        pairs.length &&
        medianOf(pairs.map((p) => p.byProbe.get(size)?.adaptive.ratio ?? null)) >
          medianOf(pairs.map((p) => p.byProbe.get(shipK)?.adaptive.ratio ?? null)) + 1e-9
      )
        shipK = size;
  } else shipK = Number(probeArg);

  const pooled = concatOutcomes(data.map((d, i) => attach(d, i, shipK)));
  const draft = fitPolicy(pooled, {
    seed: seeds[0] as number,
    costUnit: unit,
    version: "draft",
    createdAt: new Date().toISOString(),
    source: {
      kind: "calibration",
      world: world.name,
      dataset: "generated",
      seed: seeds[0] as number,
      problems: pooled.prompts.length,
      oracleSamples,
      command,
    },
  });
  const digest = createHash("sha256")
    .update(
      JSON.stringify({
        probe: draft.probe,
        estimator: draft.estimator,
        arms: draft.arms,
        defaultBudget: draft.defaultBudget,
      }),
    )
    .digest("hex")
    .slice(0, 10);
  const policy = { ...draft, version: `${world.name}-${digest}` };
  const checked = parsePolicy(JSON.parse(JSON.stringify(policy)));
  if (!checked.ok) throw new Error(`the fitted policy does not validate (${checked.error}); nothing written`);

  const fmt = (x: number | null, d = 2): string => (x === null ? "not reached" : `${x.toFixed(d)}×`);
  const summary = (xs: (number | null)[]): string => {
    const got = xs.filter((x): x is number => x !== null);
    if (got.length === 0) return "not reached on any pair";
    return `median ${median(got).toFixed(2)}× (range ${Math.min(...got).toFixed(2)}–${Math.max(...got).toFixed(2)}×${got.length < xs.length ? `; not reached on ${xs.length - got.length} of ${xs.length}` : ""})`;
  };
  const label = (size: number): string => (size === 0 ? "text only (free)" : `probe of ${size}`);
  const unitName = UNITS[unit].name;
  const amount = (x: number): string =>
    unit === "tokens" ? `${Math.round(x)}` : unit === "money" ? `$${x.toPrecision(3)}` : x.toExponential(2);
  const last = probeSizes[probeSizes.length - 1] as number;
  const lines = [
    `# Policy ${policy.version} for world ${world.name}`,
    "",
    `Fitted on ${pooled.prompts.length} problems (seeds ${seeds.join(", ")}), ${policy.probe ? `choosing after a verifier probe of ${policy.probe.samples} samples` : "choosing from the text alone"}, ${policy.arms.length} arms over 5 predicted-difficulty bins; estimator cross-validated MSE of logit pass@1 ${policy.estimator.cvError.toFixed(3)}; default cap ${amount(policy.defaultBudget)} ${unitName}.`,
    `Command: \`${command}\``,
    "",
  ];
  if (pairs.length) {
    lines.push(
      `Cost-matched efficiency against best-of-N weighted at N = 64 (${unitName} per problem): the cost at which best-of-N reaches its N = 64 accuracy over the mean cost at which the policy first reaches it, fitted on one seed and measured on the next (disjoint problems, fresh samples). The probe's cost is counted on every problem; its samples are the first of the best-of-N pool, so a fixed best-of-N arm takes them as candidates and does not pay for them twice (other arms get no credit).${unit !== "tokens" ? ` "Small model only" is the same policy fitted without the larger model's candidates: what escalation adds.` : ""}`,
      "",
      `| fit → held out | best-of-N@64 accuracy, mean ${unitName} | ${probeSizes.map(label).join(" | ")} | ${label(last)}, fixed N only | same arms, oracle bins |${unit !== "tokens" ? " small model only |" : ""}`,
      `|---|---|${probeSizes.map(() => "---|").join("")}---|---|${unit !== "tokens" ? "---|" : ""}`,
      ...pairs.map(
        (p) =>
          `| ${p.fit} → ${p.heldOut} | ${(100 * p.bestOfN.accuracy).toFixed(1)}%, ${amount(p.bestOfN.meanCost)} | ${probeSizes.map((k) => fmt(p.byProbe.get(k)?.adaptive.ratio ?? null)).join(" | ")} | ${fmt(p.byProbe.get(last)?.fixed.ratio ?? null)} | ${fmt(p.oracle.ratio)} |${unit !== "tokens" ? ` ${fmt(p.smallOnly?.ratio ?? null)} |` : ""}`,
      ),
      "",
      ...probeSizes.map(
        (k) =>
          `auto, ${label(k)}: ${summary(pairs.map((p) => p.byProbe.get(k)?.adaptive.ratio ?? null))}; without adaptive arms: ${summary(pairs.map((p) => p.byProbe.get(k)?.fixed.ratio ?? null))}`,
      ),
      `the same arms with oracle difficulty (no estimator, no probe): ${summary(pairs.map((p) => p.oracle.ratio))}`,
      ...(unit !== "tokens"
        ? [`the same policy without the larger model: ${summary(pairs.map((p) => p.smallOnly?.ratio ?? null))}`]
        : []),
      "",
      "The ratio above takes the first cap at which the held-out curve reaches best-of-N's accuracy, so noise near the crossing moves it. At the cap chosen on the fit seed alone (where its own curve first reaches its own best-of-N@64 accuracy), held out:",
      "",
      ...probeSizes.map((k) => {
        const ops = pairs.map((p) => p.byProbe.get(k)?.operating ?? null);
        const got = ops.filter((o): o is { deltaPts: number; ratio: number } => o !== null);
        if (got.length === 0) return `${label(k)}: the fit seed's curve never reached its best-of-N accuracy`;
        return `${label(k)}: ${unitName} ratio median ${median(got.map((o) => o.ratio)).toFixed(2)}× (${Math.min(...got.map((o) => o.ratio)).toFixed(2)}–${Math.max(...got.map((o) => o.ratio)).toFixed(2)}), accuracy minus best-of-N's median ${median(got.map((o) => o.deltaPts)).toFixed(1)} pts (${Math.min(...got.map((o) => o.deltaPts)).toFixed(1)} to ${Math.max(...got.map((o) => o.deltaPts)).toFixed(1)})${got.length < ops.length ? `; no operating point on ${ops.length - got.length} of ${ops.length}` : ""}`;
      }),
      "",
      "The probe size shipped is chosen on these same held-out pairs, so its figure above is slightly optimistic.",
      "",
      `Shipped: ${label(shipK)}${probeArg === "best" ? " (the best median above)" : " (asked for with --probe)"}.`,
      "",
    );
  }
  // Where the shipped policy sends each predicted bin, cap by cap: the larger model only where the data chose it.
  const large = policy.arms.filter((a) => runsOnLargeModel(a.spec));
  if (unit !== "tokens") {
    lines.push(
      `Escalation: ${large.length} of ${policy.arms.length} arms run on the larger model${large.length ? ` (${[...new Set(large.map((a) => a.bin))].map((b) => `bin ${b}`).join(", ")})` : ""}. Per predicted bin, the arms from the cheapest cap up (cap in ${unitName}; accuracy on the calibration problems of the bin):`,
      "",
      "| bin | arms |",
      "|---|---|",
      ...[1, 2, 3, 4, 5].map(
        (b) =>
          `| ${b} | ${policy.arms
            .filter((a) => a.bin === b)
            .map((a) => `${a.config} from ${amount(a.budget)} (${(100 * a.evidence.accuracy).toFixed(1)}%)`)
            .join("; ")} |`,
      ),
      "",
    );
  }
  const report = lines.join("\n");
  const outDir = dirname(out);
  const files: Record<string, string> = { [basename(out)]: JSON.stringify(policy, null, 1) + "\n" };
  if (args.report) {
    if (dirname(args.report) !== outDir) throw new InputError("--report must be in the same directory as --out");
    files[basename(args.report)] = report;
  }
  writeFilesAtomically(outDir, files);
  process.stdout.write(`${report}\nwrote ${out}\n`);
}

runMain(import.meta.url, calibrateCommand);
