/**
 * `npm run calibrate -- --dataset FILE.jsonl --service URL --key KEY [...]`: calibration through a running
 * service (for real providers; tested against `npm run dev` on the simulated world). Every usable row of a
 * MATH-500-shaped dataset goes through every candidate configuration as a sync solve, the base model's pass@1
 * comes from `--oracle-samples` single-sample solves, and the pure `fitPolicy` fits the policy, which is
 * validated and written atomically. The candidate set is small by default (30 configurations) because every
 * configuration is a paid solve per problem; see docs/policy.md "Calibrating through the service".
 */
import { createHash, randomUUID } from "node:crypto";
import { basename, dirname } from "node:path";
import { describeLines, readCalibrationDataset } from "../src/eval/datasetRows";
import { parseStrategies } from "../src/eval/grid";
import { InputError, intArg, writeFilesAtomically } from "../src/eval/io";
import { RunFailure } from "./cli";
import { CALIBRATE_LARGE, configFigures, costRatio, specsOf, subsetOutcomes } from "../src/eval/outcomes";
import { calibrateThroughService } from "../src/eval/serviceCalibration";
import {
  createServiceClient,
  describeServiceFailure,
  ServiceError,
  ServiceUnreachable,
} from "../src/eval/serviceClient";
import { parseCostUnit, type CostUnit } from "../src/engine/meter";
import { parsePolicy } from "../src/policy/document";
import { fingerprintDigest, type CalibratedFor } from "../src/policy/fingerprint";
import {
  costBudgets,
  costsIn,
  fitPolicy,
  policyCurve,
  type CandidateConfig,
  type OutcomeData,
} from "../src/policy/fit";

/** Practical through a service: 30 configurations, about 880 generations per problem (revisions dominate). */
export const DATASET_STRATEGIES = "best-of-n,majority,beam:M=4,dvts:M=4,revisions";
export const DATASET_BUDGETS = [1, 4, 16, 64];
const BASELINE = "best-of-n(n=64,weighted)";

export interface DatasetArgs {
  dataset: string;
  service?: string | undefined;
  key?: string | undefined;
  strategies?: string | undefined;
  budgets?: string | undefined;
  "oracle-samples"?: string | undefined;
  seed?: string | undefined;
  problems?: string | undefined;
  concurrency?: string | undefined;
  "solve-tokens"?: string | undefined;
  "skip-invalid-rows"?: boolean | undefined;
  out?: string | undefined;
  report?: string | undefined;
  "cost-unit"?: string | undefined;
}

/** Options of the in-process mode that mean nothing here: refused rather than silently ignored. */
export const IN_PROCESS_ONLY = ["world", "seeds", "extra-strategies", "threads", "cache", "probe"] as const;

export async function calibrateDataset(args: DatasetArgs): Promise<void> {
  if (!args.service)
    throw new InputError("--dataset needs --service URL (the running service to calibrate through) and --key KEY");
  const parsedUnit = parseCostUnit(args["cost-unit"] ?? "tokens");
  if (!parsedUnit.ok) throw new InputError(`--cost-unit ${parsedUnit.error}`);
  const unit: CostUnit = parsedUnit.unit;
  const key = args.key ?? process.env.TTC_KEY;
  if (!key)
    throw new InputError("--dataset needs --key KEY (or TTC_KEY in the environment): an API key of the service");
  let base: URL;
  try {
    base = new URL(args.service);
    if (base.protocol !== "http:" && base.protocol !== "https:") throw new Error("not http");
  } catch {
    throw new InputError(`--service "${args.service}": not an http(s) URL`);
  }
  let entries;
  try {
    // In dollars or FLOPs the larger model's candidates join (the service must have one configured).
    entries = parseStrategies(
      args.strategies ?? (unit === "tokens" ? DATASET_STRATEGIES : `${DATASET_STRATEGIES},${CALIBRATE_LARGE}`),
    );
  } catch (err) {
    throw new InputError(`--strategies: ${(err as Error).message}`);
  }
  const budgets =
    args.budgets === undefined
      ? DATASET_BUDGETS
      : args.budgets.split(",").map((b) => intArg("budgets", b.trim(), 0, 1));
  const specs = specsOf(entries, budgets);
  if (!specs.ok) throw new InputError(`--strategies/--budgets: ${specs.error}`);
  const configs: CandidateConfig[] = [...specs.specs].map(([config, spec]) => ({ config, spec }));
  const oracleSamples = intArg("oracle-samples", args["oracle-samples"], 8, 2);
  const seed = intArg("seed", args.seed, 1, 0);
  const concurrency = intArg("concurrency", args.concurrency, 4, 1);
  const solveTokens = intArg("solve-tokens", args["solve-tokens"], 2_000_000, 1000);
  const skipInvalid = args["skip-invalid-rows"] === true;
  const out = args.out ?? `policies/${basename(args.dataset).replace(/\.jsonl?$/, "")}.json`;
  if (args.report && dirname(args.report) !== dirname(out))
    throw new InputError("--report must be in the same directory as --out");

  const { rows: allRows, invalid } = readCalibrationDataset(args.dataset, { skipInvalid, minRows: 10 });
  const rows = args.problems === undefined ? allRows : allRows.slice(0, intArg("problems", args.problems, 0, 10));
  if (invalid.length)
    process.stderr.write(
      `calibrate: skipped ${invalid.length} invalid row${invalid.length === 1 ? "" : "s"} of ${args.dataset} (lines ${describeLines(invalid, 50)}); first: line ${invalid[0]?.line}: ${invalid[0]?.reason}\n`,
    );

  const client = createServiceClient({ base: base.toString(), key });
  // What the policy is calibrated for: the service's own providers (compared with what it runs by GET /v1/policy).
  let configured: CalibratedFor | null = null;
  try {
    await client.usage();
  } catch (err) {
    const line = describeServiceFailure(err, client.base);
    if (line) throw new InputError(line);
    throw err;
  }

  try {
    configured = await client.configuredProviders();
  } catch (err) {
    // An older service or a policy the service cannot show: calibrate anyway, without a fingerprint.
    process.stderr.write(
      `calibrate: the service did not say which providers it runs (${(err as Error).message}); the policy gets no fingerprint\n`,
    );
  }
  const problems = rows.map((r) => r.problem);
  const started = Date.now();
  let lastReport = 0;
  process.stderr.write(
    `calibrate: ${problems.length} problems × (${configs.length} configurations + ${oracleSamples} oracle samples) = ${problems.length * (configs.length + oracleSamples)} solves through ${client.base}, ${concurrency} at a time\n`,
  );
  let result;
  try {
    result = await calibrateThroughService(client, problems, {
      configs,
      oracleSamples,
      seed,
      concurrency,
      solveTokens,
      runId: randomUUID().slice(0, 8),
      onProgress: (done, total) => {
        if (Date.now() - lastReport > 10_000 || done === total) {
          lastReport = Date.now();
          process.stderr.write(`calibrate: ${done}/${total} solves, ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
        }
      },
    });
  } catch (err) {
    const line = describeServiceFailure(err, client.base);
    if (line && (err instanceof ServiceError || err instanceof ServiceUnreachable)) {
      // Not bad input (the key and the service were checked): the run failed part-way; nothing is written.
      throw new RunFailure(`the run stopped: ${line}; nothing written`);
    }
    throw err;
  }
  const seconds = (Date.now() - started) / 1000;
  const data = result.data;

  const command = `npm run calibrate -- --dataset ${args.dataset} --service ${client.base}${args.strategies ? ` --strategies ${args.strategies}` : ""}${args.budgets ? ` --budgets ${args.budgets}` : ""} --oracle-samples ${oracleSamples} --seed ${seed}${args.problems ? ` --problems ${args.problems}` : ""}${skipInvalid ? " --skip-invalid-rows" : ""}${unit !== "tokens" ? ` --cost-unit ${unit}` : ""}`;
  const draft = fitPolicy(data, {
    seed,
    costUnit: unit,
    cappedArms: true,
    version: "draft",
    createdAt: new Date().toISOString(),
    source: {
      kind: "calibration",
      dataset: basename(args.dataset),
      seed,
      problems: problems.length,
      oracleSamples,
      command,
    },
  });
  const digest = createHash("sha256")
    .update(JSON.stringify({ estimator: draft.estimator, arms: draft.arms, defaultBudget: draft.defaultBudget }))
    .digest("hex")
    .slice(0, 10);
  const policy = {
    ...draft,
    version: `${basename(args.dataset)
      .replace(/\.jsonl?$/, "")
      .slice(0, 80)}-${digest}`,
    ...(configured
      ? {
          calibration: {
            calibratedFor: configured,
            fingerprint: fingerprintDigest(configured),
            caps: { unit, overCap: "failure" as const, budgets: [] },
            headline: null,
          },
        }
      : {}),
  };
  const checked = parsePolicy(JSON.parse(JSON.stringify(policy)));
  if (!checked.ok) throw new Error(`the fitted policy does not validate (${checked.error}); nothing written`);

  const report = reportOf({
    policy,
    data,
    seconds,
    result,
    invalid: invalid.map((r) => r.line),
    command,
    concurrency,
    retries: client.retries(),
  });
  const files: Record<string, string> = { [basename(out)]: JSON.stringify(policy, null, 1) + "\n" };
  if (args.report) files[basename(args.report)] = report;
  writeFilesAtomically(dirname(out), files);
  process.stdout.write(`${report}\nwrote ${out}\n`);
}

/** Two-fold held-out measurement: fit on one half of the problems (alternate rows), measure on the other. */
function heldOut(
  data: OutcomeData,
  seed: number,
  unit: CostUnit,
): {
  fold: string;
  bon: { accuracy: number; meanCost: number };
  ratio: number | null;
  at: number | null;
  accuracy: number | null;
}[] {
  const n = data.prompts.length;
  if (n < 20 || !data.configs.some((c) => c.config === BASELINE)) return [];
  const even = [...Array(n).keys()].filter((i) => i % 2 === 0);
  const odd = [...Array(n).keys()].filter((i) => i % 2 === 1);
  return [
    ["even → odd", even, odd],
    ["odd → even", odd, even],
  ].map(([fold, fit, test]) => {
    const train = subsetOutcomes(data, fit as number[]);
    const held = subsetOutcomes(data, test as number[]);
    const p = fitPolicy(train, {
      seed,
      costUnit: unit,
      cappedArms: true,
      version: "fold",
      createdAt: "",
      source: {
        kind: "calibration",
        dataset: "fold",
        seed,
        problems: train.prompts.length,
        oracleSamples: data.oracleSamples,
        command: "",
      },
    });
    const highs = p.arms.map((a) => a.evidence.highCost);
    const caps = costBudgets(Math.min(...highs) / 2, Math.max(...highs) * 4);
    const c = data.configs.findIndex((x) => x.config === BASELINE);
    const spend = costsIn(held, unit)[c] as Float64Array;
    const bon = {
      accuracy: (configFigures(held, BASELINE) as { accuracy: number }).accuracy,
      meanCost: spend.reduce((a, b) => a + b, 0) / spend.length,
    };
    return { fold: fold as string, bon, ...costRatio(bon, policyCurve(p, held, caps), (x) => x.meanCost) };
  });
}

function reportOf(r: {
  policy: ReturnType<typeof fitPolicy>;
  data: OutcomeData;
  seconds: number;
  result: Awaited<ReturnType<typeof calibrateThroughService>>;
  invalid: number[];
  command: string;
  concurrency: number;
  retries: number;
}): string {
  const { policy, data, result } = r;
  const n = data.prompts.length;
  const gens = data.generations.reduce((t, g) => t + g.reduce((a, b) => a + b, 0), 0);
  const meanPass = data.passAt1.reduce((a, b) => a + b, 0) / n;
  const lines = [
    `# Policy ${policy.version}, calibrated through the service`,
    "",
    `Command: \`${r.command}\``,
    "",
    `${n} problems${r.invalid.length ? ` (${r.invalid.length} invalid rows skipped: lines ${r.invalid.join(", ")})` : ""} through ${data.configs.length} configurations and ${data.oracleSamples} oracle samples each: ${result.solves} solves in ${r.seconds.toFixed(0)} s at concurrency ${r.concurrency} (${(result.solves / r.seconds).toFixed(1)} solves/s; ${r.retries} requests retried), ${Math.round(result.tokens).toLocaleString("en-US")} tokens billed (${Math.round(result.tokens / n).toLocaleString("en-US")} per problem, of which oracle ${Math.round(result.oracleTokens / n).toLocaleString("en-US")}), ${Math.round(gens / n)} candidate generations per problem.`,
    `Base model pass@1 (mean over problems, from ${data.oracleSamples} samples each): ${(100 * meanPass).toFixed(1)}%. Estimator cross-validated MSE of logit pass@1: ${policy.estimator.cvError.toFixed(3)}. ${policy.arms.length} arms over 5 predicted-difficulty bins; default cap ${policy.costUnit === "tokens" ? `${Math.round(policy.defaultBudget)} tokens` : `${policy.defaultBudget.toPrecision(3)} (${policy.costUnit})`}.`,
  ];
  if (result.budgetStopped.size)
    lines.push(
      `Warning: solves stopped by their token budget (raise --solve-tokens): ${[...result.budgetStopped].map(([c, k]) => `${c} ×${k}`).join(", ")}.`,
    );
  if (result.failed.size)
    lines.push(
      `Warning: failed solves (counted as wrong, their spend counted): ${[...result.failed].map(([c, k]) => `${c} ×${k}`).join(", ")}.`,
    );
  lines.push("", "| configuration | accuracy | mean tokens |", "|---|---|---|");
  for (const c of data.configs) {
    const f = configFigures(data, c.config);
    if (f) lines.push(`| ${c.config} | ${(100 * f.accuracy).toFixed(1)}% | ${Math.round(f.meanTokens)} |`);
  }
  const folds = heldOut(data, policy.source.seed, policy.costUnit);
  const amount = (x: number): string =>
    policy.costUnit === "tokens" ? `${Math.round(x)} tokens` : `${x.toPrecision(3)} (${policy.costUnit})`;
  if (folds.length) {
    lines.push(
      "",
      `Held out (fit on alternate rows, measured on the others), cost-matched against ${BASELINE}: its mean cost (${policy.costUnit}) over the policy's at the first cap where the policy reaches its accuracy.`,
      "",
      ...folds.map(
        (f) =>
          `- ${f.fold}: best-of-N@64 ${(100 * f.bon.accuracy).toFixed(1)}% at ${amount(f.bon.meanCost)}; policy ${f.ratio === null ? "does not reach it (or it is at the floor/ceiling)" : `reaches ${(100 * (f.accuracy as number)).toFixed(1)}% at ${amount(f.at as number)}: ${f.ratio.toFixed(2)}×`}`,
      ),
    );
  }
  lines.push("", `Arms: ${[...new Set(policy.arms.map((a) => a.config))].join(", ")}.`, "");
  return lines.join("\n");
}
