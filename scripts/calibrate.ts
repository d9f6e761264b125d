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
 * compute-optimal policy (free difficulty estimator + per-bin arms chosen under hard caps, method.md §6–§7) and
 * writes it. With several seeds it also measures the policy honestly, leaving one seed out in turn: the policy,
 * its probe size and the best fixed configuration are chosen on the other seeds, and the headline (src/eval/
 * headline.ts) is the held-out accuracy difference per budget with a paired bootstrap interval. The shipped
 * policy is fitted on all seeds' problems together and carries that headline and its fingerprint.
 * `--report FILE.json` writes the machine-readable report; any other name, the Markdown one.
 *
 * `--strategies` defaults to verify-world's list, so with the same `--cache` its sweeps are read back;
 * `--extra-strategies` (default none; e.g. best-of-n-adaptive:c=95) are swept separately and joined problem by problem.
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
import type { ProblemResult } from "../src/eval/sweep";
import {
  CALIBRATE_EXTRA,
  CALIBRATE_LARGE,
  CALIBRATE_STRATEGIES,
  concatOutcomes,
  keepConfigs,
  onLargeModel,
  outcomeData,
} from "../src/eval/outcomes";
import { parseCostUnit, UNITS, type CostUnit } from "../src/engine/meter";
import { parsePolicy } from "../src/policy/document";
import { costBudgets, costsIn, fitPolicy, quantile, type OutcomeData } from "../src/policy/fit";
import { cappedPolicy, efficiency, headline, type HeldOutPair } from "../src/eval/headline";
import { fingerprintDigest } from "../src/policy/fingerprint";
import { worldFingerprint } from "../src/wiring/fingerprint";
import { probeWorstTokens } from "../src/policy/probeStep";
import type { PolicyDocument } from "../src/policy/document";
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
/**
 * Sized so that 3 seeds calibrate in well under 3 minutes on a 2-core machine (issue 20). The sweep's time
 * doubles with each doubling of N and is linear in problems, so N stops at 64 (the top budget at 128 cost as
 * much as all the others together and never changed a conclusion) and the time goes into problems: a
 * per-bin gain of a point or two is only told from noise on a thousand held-out problems or more.
 */
const CALIBRATE_DEFAULTS = { problems: 500, budgets: [1, 2, 4, 8, 16, 32, 64] };
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

const options = {
  ...pick("world", "seeds", "problems", "oracle-samples", "strategies", "budgets", "threads", "cache"),
  "extra-strategies": { type: "string", arg: "LIST", help: "swept separately and joined (default none)" },
  out: { type: "string", arg: "FILE", help: "the policy written (default policies/<world>.json)" },
  report: {
    type: "string",
    arg: "FILE",
    help: "where the report is written: FILE.json the machine-readable headline, else markdown",
  },
  probe: {
    type: "string",
    arg: "best|0|4|8",
    help: "the verifier probe's samples: 0 (default) text alone; best: chosen by leave-one-seed-out",
  },
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
    "[--world FILE] [--seeds LIST] [--problems N] [--cost-unit tokens|money|flops] [--report FILE.json] [options]",
    "--dataset FILE.jsonl --service URL --key KEY [options]",
  ],
  summary: `Fits a compute-optimal policy (difficulty estimator + per-bin arms) on the simulated world in process,
or with --dataset through a running service, writes it and reports how it does held out: first the headline,
the policy's accuracy minus the best fixed configuration's at each budget, with a paired bootstrap interval.`,
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
  const count = intArg("problems", args.problems, CALIBRATE_DEFAULTS.problems, 20);
  const oracleSamples = intArg("oracle-samples", args["oracle-samples"], EVAL_DEFAULTS.oracleSamples, 8);
  const threads = threadsArg(args.threads);
  const budgets =
    args.budgets === undefined
      ? CALIBRATE_DEFAULTS.budgets
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
    const extraArg = args["extra-strategies"] ?? DEFAULT_EXTRA;
    extra = extraArg === "" ? [] : parseStrategies(extraArg).filter((e) => !strategies.some((s) => s.name === e.name));
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
  const probeArg = args.probe ?? "0";
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

  const command = `npm run calibrate -- --world ${worldFile} --seeds ${seeds.join(",")} --problems ${count} --oracle-samples ${oracleSamples}${args.budgets ? ` --budgets ${args.budgets}` : ""}${args.strategies ? ` --strategies ${args.strategies}` : ""}${args["extra-strategies"] !== undefined ? ` --extra-strategies '${args["extra-strategies"]}'` : ""}${args.probe ? ` --probe ${args.probe}` : ""}${unit !== "tokens" ? ` --cost-unit ${unit}` : ""}`;
  const attach = (d: OutcomeData, i: number, k: number): OutcomeData =>
    withProbe(d, k > 0 ? (probes[i] as Map<number, NonNullable<OutcomeData["probe"]>>).get(k) : undefined);

  // Honest measurement, leave one seed out: the policy, its probe size and the baseline configuration are
  // chosen on the other seeds only, and measured on the held-out seed (disjoint problems, fresh samples).
  const { costs: simCosts } = simProviders(world);
  const probeWorst = new Map<string, number>();
  const worst = (policy: PolicyDocument, prompt: string): number => {
    const key = `${policy.probe?.samples ?? 0}\u0000${prompt}`;
    let w = probeWorst.get(key);
    if (w === undefined) probeWorst.set(key, (w = probeWorstTokens(policy, prompt, simCosts)));
    return w;
  };
  const fitOn = (indices: readonly number[], k: number, data2: readonly OutcomeData[] = data): PolicyDocument =>
    fitPolicy(concatOutcomes(indices.map((i) => attach(data2[i] as OutcomeData, i, k))), {
      seed: seeds[indices[0] as number] as number,
      costUnit: unit,
      cappedArms: true,
      caps: budgetValues,
      version: "pair",
      createdAt: "",
      source: {
        kind: "calibration",
        dataset: "generated",
        seed: seeds[indices[0] as number] as number,
        problems: count * indices.length,
        oracleSamples,
        command: "",
      },
    });
  // Headline budgets, one per doubling of the sweep's generation budgets: the 90th-percentile cost of
  // best-of-N weighted at that N over every seed's problems. Costs only (no correctness), so no label of a
  // held-out seed goes into them.
  const allCosts = concatOutcomes(data);
  const headlineBudgets = budgets
    .map((b) => {
      const c = allCosts.configs.findIndex(
        (x) => x.spec.strategy === "best-of-n" && x.spec.n === b && x.spec.selection === "weighted" && !x.spec.stopAt,
      );
      if (c < 0) return null;
      const sorted = [...(costsIn(allCosts, unit)[c] as Float64Array)].sort((x, y) => x - y);
      return { generations: b, budget: quantile(sorted, 0.9) };
    })
    .filter((x): x is { generations: number; budget: number } => x !== null);
  const budgetValues = headlineBudgets.map((b) => b.budget);
  /**
   * The probe size, chosen on fit seeds only: leave one fit seed out in turn, fit on the rest, and score the
   * mean capped accuracy over the headline budgets on the left-out one; the smaller size on a tie. With one
   * fit seed there is nothing to hold out: text alone.
   */
  const chooseProbe = (fitIdx: readonly number[]): { size: number; scores: Record<number, number> } => {
    if (probeArg !== "best") return { size: Number(probeArg), scores: {} };
    if (fitIdx.length < 2 || probeSizes.length === 1) return { size: 0, scores: {} };
    const scores: Record<number, number> = {};
    let size = 0;
    for (const k of probeSizes) {
      let total = 0;
      for (const left of fitIdx) {
        const p = fitOn(
          fitIdx.filter((x) => x !== left),
          k,
        );
        const test = attach(data[left] as OutcomeData, left, k);
        for (const b of budgetValues) {
          const run = cappedPolicy(p, test, b, (prompt) => worst(p, prompt));
          total += run.success.reduce((a, x) => a + x, 0) / run.success.length;
        }
      }
      scores[k] = total / (fitIdx.length * budgetValues.length);
      if (scores[k] > (scores[size] ?? -1) + 1e-9) size = k;
    }
    return { size, scores };
  };
  const pairs: (HeldOutPair & { probe: number; smallOnly?: PolicyDocument })[] = [];
  if (data.length >= 2) {
    for (let j = 0; j < data.length; j++) {
      const fitIdx = data.map((_, i) => i).filter((i) => i !== j);
      const { size } = chooseProbe(fitIdx);
      const policy = fitOn(fitIdx, size);
      const fitData = concatOutcomes(fitIdx.map((i) => data[i] as OutcomeData));
      const small =
        unit !== "tokens"
          ? fitOn(
              fitIdx,
              0,
              data.map((d) => keepConfigs(d, (c) => !onLargeModel(c))),
            )
          : undefined;
      pairs.push({
        fit: fitIdx.map((i) => seeds[i] as number),
        heldOut: seeds[j] as number,
        fitData,
        test: data[j] as OutcomeData,
        policy,
        policyTest: attach(data[j] as OutcomeData, j, size),
        probe: size,
        ...(small ? { smallOnly: small } : {}),
      });
    }
  }
  const head = pairs.length ? headline(pairs, budgetValues, unit, { probeWorst: worst }) : null;
  const eff = pairs.length
    ? efficiency(
        pairs,
        (() => {
          const highs = pairs.flatMap((p) => p.policy.arms.map((a) => a.evidence.highCost));
          return costBudgets(Math.min(...highs) / 2, Math.max(...highs) * 4);
        })(),
        unit,
        { probeWorst: worst },
      )
    : null;
  // Escalation: the same statistic for the policy fitted without the larger model (what escalation adds).
  const smallHead =
    pairs.length && unit !== "tokens"
      ? headline(
          pairs.map((p) => ({
            ...p,
            policy: p.smallOnly as PolicyDocument,
            policyTest: keepConfigs(p.test, (c) => !onLargeModel(c)),
          })),
          budgetValues,
          unit,
        )
      : null;

  // The probe size to ship, chosen the same way on all seeds.
  const shipK = chooseProbe(data.map((_, i) => i)).size;

  const pooled = concatOutcomes(data.map((d, i) => attach(d, i, shipK)));
  const draft = fitPolicy(pooled, {
    seed: seeds[0] as number,
    costUnit: unit,
    cappedArms: true,
    caps: budgetValues,
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
  const calibratedFor = worldFingerprint(world);
  const fingerprint = fingerprintDigest(calibratedFor);
  const policy = {
    ...draft,
    version: `${world.name}-${digest}`,
    calibration: {
      calibratedFor,
      fingerprint,
      caps: { unit, overCap: "failure" as const, budgets: budgetValues },
      headline: head
        ? {
            heldOutProblems: head.heldOutProblems,
            pairs: head.pairs,
            budgets: head.budgets.map(({ baselineConfigs: _c, oracleBoundPoints: _o, ...b }) => b),
          }
        : null,
    },
  };
  const checked = parsePolicy(JSON.parse(JSON.stringify(policy)));
  if (!checked.ok) throw new Error(`the fitted policy does not validate (${checked.error}); nothing written`);

  const fmt = (x: number | null, d = 2): string => (x === null ? "not reached" : `${x.toFixed(d)}×`);
  const label = (size: number): string => (size === 0 ? "text only (free)" : `probe of ${size}`);
  const unitName = UNITS[unit].name;
  const amount = (x: number): string =>
    unit === "tokens" ? `${Math.round(x)}` : unit === "money" ? `$${x.toPrecision(3)}` : x.toExponential(2);
  /** An amount with its unit where the amount does not show it ("$0.003", "4096 tokens"). */
  const costOf = (x: number): string => (unit === "money" ? amount(x) : `${amount(x)} ${unitName}`);
  const pts = (x: number): string => `${x >= 0 ? "+" : ""}${x.toFixed(1)}`;
  const lines = [`# Policy ${policy.version} for world ${world.name}`, ""];
  if (head) {
    const small = smallHead?.budgets;
    lines.push(
      `## Headline: accuracy against the best fixed configuration, held out`,
      "",
      `At each budget (a hard cap in ${unitName} per problem; a run over it or without an answer counts as a failure, the probe included), the policy's accuracy on held-out problems minus that of the best fixed configuration of the grid (any strategy and hyperparameters, best-of-N and majority at every N) whose runs fit the budget, chosen on the fit seeds only. Leave one seed out: ${head.pairs.map((p) => `${p.fit.join("+")} → ${p.heldOut}`).join(", ")}; ${head.heldOutProblems} held-out problems pooled; ${Math.round(100 * head.confidence)}% paired bootstrap over problems (${head.resamples} resamples, stratified by seed). Budgets: the 90th-percentile cost of best-of-N weighted at N generations (costs only).`,
      "",
      `| budget (${unitName}) | ≈ best-of-N at N | ΔAcc (points) | 90% interval | policy | best fixed | best fixed configuration (fit seeds) | bound (oracle bins) |${small ? " ΔAcc, small model only |" : ""}`,
      `|---|---|---|---|---|---|---|---|${small ? "---|" : ""}`,
      ...head.budgets.map((b, i) => {
        const s = small?.[i];
        return `| ${amount(b.budget)} | ${headlineBudgets[i]?.generations} | ${pts(b.deltaPoints.estimate)} | ${pts(b.deltaPoints.low)} to ${pts(b.deltaPoints.high)} | ${(100 * b.policyAccuracy).toFixed(1)}% | ${(100 * b.baselineAccuracy).toFixed(1)}% | ${[...new Set(b.baselineConfigs)].join("; ")} | ${pts(b.oracleBoundPoints)} |${s ? ` ${pts(s.deltaPoints.estimate)} (${pts(s.deltaPoints.low)} to ${pts(s.deltaPoints.high)}) |` : ""}`;
      }),
      "",
      `Never significantly worse (high ≥ 0) at every budget: ${
        head.budgets.every((b) => b.deltaPoints.high >= 0)
          ? "yes"
          : `no (${head.budgets
              .filter((b) => b.deltaPoints.high < 0)
              .map((b) => amount(b.budget))
              .join(", ")})`
      }; significantly better (low > 0) at ${head.budgets.filter((b) => b.deltaPoints.low > 0).length} of ${head.budgets.length} budgets.`,
      "",
      `Bound (oracle bins): the most any choice among 5 difficulty bins could add over the best single configuration at that budget, on the held-out problems, even knowing each problem's true difficulty and choosing on the very problems it is scored on. An optimistic upper bound with no interval: where it is about 1 point, no policy can show a significant gain on ${head.heldOutProblems} problems.`,
      "",
      probeArg === "best"
        ? `Probe size chosen on each pair's fit seeds (inner leave-one-seed-out): ${pairs.map((p) => `${p.fit.join("+")} → ${p.heldOut}: ${label(p.probe)}`).join("; ")}.`
        : `Probe: ${label(Number(probeArg))} in every pair.`,
      "",
    );
    if (eff) {
      lines.push(
        `Secondary, efficiency against the whole best-of-N frontier (weighted and majority at every N, uncapped): best-of-N@64 weighted reaches ${(100 * eff.target).toFixed(1)}% on the pooled held-out problems; the frontier's cheapest mean cost reaching it is ${eff.frontierCost === null ? "none" : costOf(eff.frontierCost)}, the policy's (capped) ${eff.policyCost === null ? "never" : amount(eff.policyCost)}: ratio ${eff.policyCost === null ? "not reached" : fmt(eff.ratio?.estimate ?? null)} (90% bootstrap ${fmt(eff.ratio?.low ?? null)}–${fmt(eff.ratio?.high ?? null)}, a resample that never reaches it counted as 0). Per held-out seed: ${eff.perPair.map((r, i) => `${pairs[i]?.heldOut}: ${fmt(r)}`).join(", ")}.`,
        "",
      );
    }
  }
  lines.push(
    `## The shipped policy`,
    "",
    `Fitted on ${pooled.prompts.length} problems (seeds ${seeds.join(", ")}), ${policy.probe ? `choosing after a verifier probe of ${policy.probe.samples} samples` : "choosing from the text alone"} (${probeArg === "best" ? "probe size chosen by leave-one-seed-out on all seeds" : args.probe === undefined ? "the default: a probe is chosen only with --probe" : "asked for with --probe"}), ${policy.arms.length} arms over 5 predicted-difficulty bins; estimator cross-validated MSE of logit pass@1 ${policy.estimator.cvError.toFixed(3)}; default cap ${costOf(policy.defaultBudget)}. Calibrated for ${calibratedFor.world ? `world ${calibratedFor.world}` : "the providers below"} (fingerprint ${fingerprint}). The headline above is of the same procedure fitted without each held-out seed.`,
    `Command: \`${command}\``,
    "",
  );
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
    // FILE.json: the machine-readable report (the headline first); any other name: the Markdown report.
    files[basename(args.report)] = args.report.endsWith(".json")
      ? JSON.stringify(
          {
            headline: head
              ? {
                  unit: head.unit,
                  baseline: head.baseline,
                  confidence: head.confidence,
                  resamples: head.resamples,
                  heldOutProblems: head.heldOutProblems,
                  pairs: pairs.map((p) => ({ fit: p.fit, heldOut: p.heldOut, probe: p.probe })),
                  budgets: head.budgets.map((b, i) => ({ ...b, bestOfNAt: headlineBudgets[i]?.generations })),
                }
              : null,
            efficiency: eff,
            ...(smallHead ? { smallModelOnly: smallHead } : {}),
            policy: {
              file: basename(out),
              version: policy.version,
              probe: policy.probe,
              calibration: policy.calibration,
            },
            command,
            report,
          },
          null,
          1,
        ) + "\n"
      : report;
  }
  writeFilesAtomically(outDir, files);
  process.stdout.write(`${report}\nwrote ${out}\n`);
}

runMain(import.meta.url, calibrateCommand);
