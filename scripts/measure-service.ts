/**
 * npm run measure:service -- --service URL --key KEY [--world FILE] [--policy FILE] [--seeds LIST]
 *                            [--problems N] [--caps LIST] [--concurrency N] [--baseline-n N] [--matched-seeds]
 *                            [--cache DIR] [--threads N] [--oracle-samples N] [--out DIR]
 *
 * `auto` measured through a running service (`npm run dev`, the simulated world in process) on held-out
 * problems of the world (seeds the policy was not calibrated on): per token cap, auto solves with no strategy,
 * each graded against the gold answer and reported back as feedback; accuracy with its 95% interval, mean
 * tokens and generations and the exploration share, next to the in-process figure of the same policy on the
 * same problems at the same cap (`policyCurve` on the in-process sweep calibrate runs, `--cache` to reuse
 * it), the paired difference and whether the two agree within its interval; and the cost-matched ratio
 * against best-of-N weighted at N = 64, in process and (with `--baseline-n 64`, the default) through the
 * service.
 *
 * By default the service draws its own samples (seeds unrelated to the sweep's), so the two figures are
 * independent measurements of the same policy. `--matched-seeds` sends each solve the seed the in-process
 * sweep used for the configuration the policy chooses: then, on the simulated world, the two differ only
 * where the service does something the in-process figure does not model (exploration, a cap that cuts a
 * configuration short).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describeSpec, StrategySpecSchema, type StrategySpec } from "../src/engine/strategies";
import { loadWorld, writeFilesAtomically } from "../src/eval/io";
import { ratioAgainst } from "../src/eval/outcomes";
import { EVAL_DEFAULTS } from "../src/eval/run";
import { serviceSeed } from "../src/eval/serviceCalibration";
import {
  createServiceClient,
  describeServiceFailure,
  ServiceError,
  ServiceUnreachable,
} from "../src/eval/serviceClient";
import {
  calibrationSeeds,
  figuresOf,
  independentSeed,
  pairedDifference,
  runAutoThroughService,
  runCappedInProcess,
  runFixedThroughService,
  type AutoRecord,
  type Figures,
} from "../src/eval/serviceMeasure";
import { choosePolicyArm } from "../src/policy/choose";
import { parsePolicy, type PolicyDocument } from "../src/policy/document";
import { costBudgets, policyCurve, type OutcomeData } from "../src/policy/fit";
import { seedOutcomes } from "../src/eval/seedOutcomes";
import { generateProblems } from "../src/sim/problems";
import { command, InputError, intArg, pick, RunFailure, runMain, seedsArg, type Values } from "./cli";

const options = {
  ...pick("service", "key", "world", "problems", "concurrency", "oracle-samples", "cache", "threads"),
  policy: { type: "string", arg: "FILE", help: "the policy the service runs (default policies/default-text.json)" },
  seeds: { type: "string", arg: "LIST", help: "held-out seeds, comma-separated (default 11)" },
  caps: { type: "string", arg: "LIST", help: "token caps, comma-separated (default 4096,16384,65536)" },
  "baseline-n": { type: "string", arg: "N", help: "best-of-N weighted through the service at this N (0: none)" },
  "matched-seeds": { type: "boolean", help: "send each solve the in-process sweep's seed" },
  out: { type: "string", arg: "DIR", help: "where the results are written (default out/measure-service)" },
} as const;

export const measureServiceCommand = command({
  name: "measure:service",
  usage: ["--service URL --key KEY [options]"],
  summary: `auto measured through a running service (npm run dev) on held-out problems, next to the in-process
figure of the same policy on the same problems at the same cap.`,
  options,
  run,
});

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
const ci = (f: Figures): string => `${pct(f.accuracy)} [${pct(f.lo)}, ${pct(f.hi)}]`;
const toks = (f: Figures): string =>
  `${Math.round(f.meanTokens)} [${Math.round(f.tokensLo)}, ${Math.round(f.tokensHi)}]`;

interface CapResult {
  cap: number;
  service: Figures;
  serviceOwnChoice: Figures;
  inProcess: Figures;
  inProcessOwnChoice: Figures;
  /** policyCurve's figure at the cap (the same as inProcess, computed by the library; a check). */
  curve: { accuracy: number; meanTokens: number };
  accuracyDiff: ReturnType<typeof pairedDifference>;
  tokensDiff: ReturnType<typeof pairedDifference>;
  /** In process with the cap enforced as the service enforces it (same choices, the sweep's seeds). */
  capped: Figures;
  cappedCut: number;
  /** Service − capped in process, and capped − uncapped in process (the cap's own effect, same samples). */
  cappedDiff: ReturnType<typeof pairedDifference>;
  capEffect: ReturnType<typeof pairedDifference>;
  explorationShare: number;
  /** Of the solves that did not explore, how many ran the configuration the local policy file chooses. */
  sameChoice: number;
  ownChoiceCount: number;
  budgetStopped: number;
  gradingMismatches: number;
  configs: Record<string, number>;
}

interface SeedResult {
  seed: number;
  problems: number;
  caps: CapResult[];
  bonInProcess: Figures;
  bonService: Figures | null;
  ratioInProcess: ReturnType<typeof ratioAgainst>;
  ratioServiceCaps: ReturnType<typeof ratioAgainst>;
  ratioInProcessCaps: ReturnType<typeof ratioAgainst>;
  seconds: number;
}

/** Per problem, the in-process outcome of the configuration the policy chooses at `cap`. */
function inProcessAt(
  policy: PolicyDocument,
  data: OutcomeData,
  cap: number,
): { correct: number; tokens: number; generations: number; config: string }[] {
  const index = new Map(data.configs.map((c, i) => [c.config, i]));
  return data.prompts.map((prompt, i) => {
    const { arm } = choosePolicyArm(policy, prompt, cap);
    const c = index.get(arm.config);
    if (c === undefined) throw new Error(`policy arm ${arm.config} is not among the in-process configurations`);
    return {
      correct: (data.correct[c] as Uint8Array)[i] as number,
      tokens: (data.tokens[c] as Float64Array)[i] as number,
      generations: (data.generations[c] as Float64Array)[i] as number,
      config: arm.config,
    };
  });
}

async function run(args: Values<typeof options>): Promise<void> {
  if (!args.service)
    throw new InputError(
      "--service URL is required (the running service, e.g. http://localhost:8787 from npm run dev)",
    );
  const key = args.key ?? process.env.TTC_KEY;
  if (!key) throw new InputError("--key KEY (or TTC_KEY in the environment) is required: an API key of the service");
  const worldFile = args.world ?? "worlds/default.json";
  const world = loadWorld(worldFile);
  const policyFile = args.policy ?? "policies/default-text.json";
  let policy: PolicyDocument;
  try {
    const r = parsePolicy(JSON.parse(readFileSync(policyFile, "utf8")));
    if (!r.ok) throw new InputError(`--policy ${policyFile}: ${r.error}`);
    policy = r.policy;
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`--policy ${policyFile}: ${(err as Error).message.split("\n")[0]}`);
  }
  if (policy.probe)
    throw new InputError(
      `--policy ${policyFile}: chooses after a verifier probe, which the service's auto does not run`,
    );
  if (policy.costUnit !== "tokens")
    throw new InputError(
      `--policy ${policyFile}: is fitted in ${policy.costUnit}; this measurement caps in tokens (npm run measure:caps measures a policy in any unit in process)`,
    );
  const seeds = seedsArg("--seeds", args.seeds ?? "11");
  const used = calibrationSeeds(policy).filter((s) => seeds.includes(s));
  if (used.length && policy.source.world === world.name)
    throw new InputError(
      `--seeds: seed ${used[0]} is one the policy was calibrated on (${calibrationSeeds(policy).join(", ")}); held-out problems need another`,
    );
  const count = intArg("problems", args.problems, 200, 10);
  const caps = (args.caps ?? "4096,16384,65536").split(",").map((c) => intArg("caps", c.trim(), 0, 1));
  const concurrency = intArg("concurrency", args.concurrency, 4, 1);
  const baselineN = intArg("baseline-n", args["baseline-n"], 64, 0);
  const oracleSamples = intArg("oracle-samples", args["oracle-samples"], EVAL_DEFAULTS.oracleSamples, 8);
  const threads = intArg("threads", args.threads, 2, 1);
  const matched = args["matched-seeds"] === true;
  const outDir = args.out ?? "out/measure-service";

  const client = createServiceClient({ base: args.service, key });
  let serviceVersion: string;
  try {
    await client.usage();
    const dry = await client.dryRun({
      prompt: "Start with 48. Add 17. What is the final number?",
      strategy: { strategy: "auto" },
      budget: { tokens: caps[0] as number },
    });
    serviceVersion = dry.policy?.policyVersion ?? "(none)";
  } catch (err) {
    const line = describeServiceFailure(err, client.base);
    if (line) throw new InputError(line);
    throw err;
  }
  if (serviceVersion !== policy.version)
    throw new InputError(
      `the service chooses with policy ${serviceVersion}, but --policy ${policyFile} is ${policy.version}: the in-process figure would be of another policy`,
    );

  const bonConfig = `best-of-n(n=${baselineN || 64},weighted)`;
  const results: SeedResult[] = [];
  const allRecords: Record<string, AutoRecord[]> = {};
  try {
    for (const seed of seeds) {
      const started = Date.now();
      const problems = generateProblems(world, seed, count).map((r) => ({
        id: r.unique_id,
        question: r.problem,
        answer: r.answer,
      }));
      process.stderr.write(
        `measure: seed ${seed}: in-process sweep of ${problems.length} problems${args.cache ? ` (cache ${args.cache})` : ""}\n`,
      );
      const data = await seedOutcomes(world, seed, {
        problems: count,
        oracleSamples,
        budgets: EVAL_DEFAULTS.budgets,
        threads,
        ...(args.cache ? { cacheDir: args.cache } : {}),
      });
      const bonInProcess = figuresOf(
        problems.map((_, i) => {
          const c = data.configs.findIndex((x) => x.config === bonConfig);
          return {
            correct: (data.correct[c] as Uint8Array)[i] as number,
            tokens: (data.tokens[c] as Float64Array)[i] as number,
            generations: (data.generations[c] as Float64Array)[i] as number,
          };
        }),
      );
      const capResults: CapResult[] = [];
      for (const cap of caps) {
        let done = 0;
        const t0 = Date.now();
        const seedOf = (i: number): number =>
          matched
            ? serviceSeed(seed, i, choosePolicyArm(policy, problems[i]!.question, cap).arm.spec)
            : independentSeed(seed, cap, i);
        const records = await runAutoThroughService(client, problems, {
          cap,
          concurrency,
          seedOf,
          feedback: true,
          onProgress: () => {
            if (++done % 100 === 0)
              process.stderr.write(
                `measure: seed ${seed} cap ${cap}: ${done}/${problems.length} auto solves, ${((Date.now() - t0) / 1000).toFixed(0)} s\n`,
              );
          },
        });
        allRecords[`${seed}/${cap}`] = records;
        const versions = new Set(records.map((r) => r.policyVersion));
        if (versions.size !== 1 || !versions.has(policy.version))
          throw new Error(`the service's policy changed during the run (${[...versions].join(", ")})`);
        const local = inProcessAt(policy, data, cap);
        const own = records.filter((r) => !r.exploration).map((r) => r.problem);
        const curve = policyCurve(policy, data, [cap])[0]!;
        // The per-problem outcomes (for paired differences) must be policyCurve's, problem by problem.
        const summed = figuresOf(local);
        if (Math.abs(summed.accuracy - curve.accuracy) > 1e-9 || Math.abs(summed.meanTokens - curve.meanTokens) > 1e-6)
          throw new Error(`in-process outcomes at cap ${cap} disagree with policyCurve`);
        const capped = await runCappedInProcess(
          world,
          problems,
          cap,
          (i) => choosePolicyArm(policy, problems[i]!.question, cap).arm.spec,
          (i, spec) => serviceSeed(seed, i, spec),
        );
        const configs: Record<string, number> = {};
        for (const r of records) configs[r.config] = (configs[r.config] ?? 0) + 1;
        capResults.push({
          cap,
          service: figuresOf(records),
          serviceOwnChoice: figuresOf(own.map((i) => records[i]!)),
          inProcess: figuresOf(local),
          inProcessOwnChoice: figuresOf(own.map((i) => local[i]!)),
          curve: { accuracy: curve.accuracy, meanTokens: curve.meanTokens },
          accuracyDiff: pairedDifference(
            records.map((r) => (r.correct ? 1 : 0)),
            local.map((l) => l.correct),
          ),
          tokensDiff: pairedDifference(
            records.map((r) => r.tokens),
            local.map((l) => l.tokens),
          ),
          capped: figuresOf(capped),
          cappedCut: capped.filter((c) => c.cut).length,
          cappedDiff: pairedDifference(
            records.map((r) => (r.correct ? 1 : 0)),
            capped.map((c) => (c.correct ? 1 : 0)),
          ),
          capEffect: pairedDifference(
            capped.map((c) => (c.correct ? 1 : 0)),
            local.map((l) => l.correct),
          ),
          explorationShare: records.filter((r) => r.exploration).length / records.length,
          sameChoice: own.filter((i) => records[i]!.config === local[i]!.config).length,
          ownChoiceCount: own.length,
          budgetStopped: records.filter((r) => r.stopReason === "budget").length,
          gradingMismatches: records.filter((r) => r.serviceCorrect !== null && r.serviceCorrect !== r.correct).length,
          configs,
        });
        process.stderr.write(
          `measure: seed ${seed} cap ${cap}: service ${ci(capResults.at(-1)!.service)}, in process ${ci(capResults.at(-1)!.inProcess)} (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`,
        );
      }
      let bonService: Figures | null = null;
      if (baselineN > 0) {
        const spec: StrategySpec = StrategySpecSchema.parse({
          strategy: "best-of-n",
          n: baselineN,
          selection: "weighted",
        });
        if (describeSpec(spec) !== bonConfig) throw new Error(`baseline label ${describeSpec(spec)}`);
        const rows = await runFixedThroughService(
          client,
          problems,
          spec,
          { generations: baselineN, tokens: 400_000 },
          { concurrency, seedOf: (i) => (matched ? serviceSeed(seed, i, spec) : independentSeed(seed, 0xb0, i)) },
        );
        bonService = figuresOf(rows);
      }
      const highs = policy.arms.map((a) => a.evidence.highCost);
      const fine = costBudgets(Math.min(...highs) / 2, Math.max(...highs) * 4);
      results.push({
        seed,
        problems: problems.length,
        caps: capResults,
        bonInProcess,
        bonService,
        ratioInProcess: ratioAgainst(bonInProcess, policyCurve(policy, data, fine)),
        ratioInProcessCaps: ratioAgainst(
          bonInProcess,
          capResults.map((c) => c.inProcess),
        ),
        ratioServiceCaps: ratioAgainst(
          bonService ?? bonInProcess,
          capResults.map((c) => c.service),
        ),
        seconds: (Date.now() - started) / 1000,
      });
    }
  } catch (err) {
    if (err instanceof ServiceError || err instanceof ServiceUnreachable) {
      throw new RunFailure(`the run stopped: ${describeServiceFailure(err, client.base)}; nothing written`);
    }
    throw err;
  }

  const command = `npm run measure:service -- --service ${client.base} --world ${worldFile} --policy ${policyFile} --seeds ${seeds.join(",")} --problems ${count} --caps ${caps.join(",")}${baselineN !== 64 ? ` --baseline-n ${baselineN}` : ""}${matched ? " --matched-seeds" : ""}`;
  const report = reportOf(policy, results, command, matched, bonConfig, client.retries());
  writeFilesAtomically(outDir, {
    "report.md": report,
    "results.json":
      JSON.stringify(
        { command, policy: policy.version, matchedSeeds: matched, results, records: allRecords },
        null,
        1,
      ) + "\n",
  });
  process.stdout.write(`${report}\nwrote ${join(outDir, "report.md")} and results.json\n`);
}

function reportOf(
  policy: PolicyDocument,
  results: SeedResult[],
  command: string,
  matched: boolean,
  bonConfig: string,
  retries: number,
): string {
  const lines = [
    `# auto through the service vs in process: policy ${policy.version}`,
    "",
    `Command: \`${command}\``,
    "",
    `Samples: ${matched ? "matched (each solve has the seed the in-process sweep used for the policy's choice)" : "independent (the service's solves have their own seeds)"}. Intervals are 95%: Wilson for accuracy, normal for mean tokens and for the paired per-problem difference service − in process. ${retries} requests were retried.`,
    "",
    "Accuracy. *In process* is `policyCurve`: each problem's chosen configuration with its uncapped outcome from the sweep. *Capped* runs the same choices in process with the cap as a hard cap, as the executor in the service applies it (a step whose worst case, every completion at max_tokens, does not fit is shrunk), on the sweep's samples; *cap effect* is capped − uncapped on the same samples.",
    "",
    "| seed | cap | service | in process | service − in process (pts) | agree | in process, capped | service − capped (pts) | agree | cap effect (pts) | exploration | own choice only: service / in process (n) |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  const pts = (d: ReturnType<typeof pairedDifference>): string =>
    `${(100 * d.mean).toFixed(1)} [${(100 * d.lo).toFixed(1)}, ${(100 * d.hi).toFixed(1)}]`;
  for (const r of results) {
    for (const c of r.caps) {
      lines.push(
        `| ${r.seed} | ${c.cap} | ${ci(c.service)} | ${ci(c.inProcess)} | ${pts(c.accuracyDiff)} | ${c.accuracyDiff.agree ? "yes" : "**no**"} | ${ci(c.capped)} | ${pts(c.cappedDiff)} | ${c.cappedDiff.agree ? "yes" : "**no**"} | ${pts(c.capEffect)} | ${pct(c.explorationShare)} | ${pct(c.serviceOwnChoice.accuracy)} / ${pct(c.inProcessOwnChoice.accuracy)} (${c.ownChoiceCount}) |`,
      );
    }
  }
  lines.push(
    "",
    "Cost per problem (mean tokens with a 95% interval; generations), and checks: solves cut short by the cap (stop reason `budget`), solves that did not explore and ran the configuration the local policy file chooses, and answers the service's feedback route graded differently from the client.",
    "",
    "| seed | cap | service tokens | in process | in process, capped | service generations | in process | cut by cap: service / capped | same choice | grading mismatches |",
    "|---|---|---|---|---|---|---|---|---|---|",
  );
  for (const r of results) {
    for (const c of r.caps) {
      lines.push(
        `| ${r.seed} | ${c.cap} | ${toks(c.service)} | ${toks(c.inProcess)} | ${toks(c.capped)} | ${c.service.meanGenerations.toFixed(1)} | ${c.inProcess.meanGenerations.toFixed(1)} | ${c.budgetStopped} / ${c.cappedCut} | ${c.sameChoice}/${c.ownChoiceCount} | ${c.gradingMismatches} |`,
      );
    }
  }
  lines.push(
    "",
    `Cost-matched against ${bonConfig} (its mean tokens over auto's at the cheapest point that reaches its accuracy):`,
    "",
  );
  for (const r of results) {
    const f = (x: ReturnType<typeof ratioAgainst>): string =>
      x.ratio === null
        ? "not reached"
        : `${x.ratio.toFixed(2)}× (auto ${pct(x.accuracy as number)} at ${Math.round(x.at as number)} tokens)`;
    lines.push(
      `- seed ${r.seed} (${r.problems} problems): best-of-N in process ${ci(r.bonInProcess)} at ${Math.round(r.bonInProcess.meanTokens)} tokens${r.bonService ? `; through the service ${ci(r.bonService)} at ${Math.round(r.bonService.meanTokens)} tokens` : ""}. In process over the policy's full cap grid: ${f(r.ratioInProcess)}; in process at the measured caps only: ${f(r.ratioInProcessCaps)}; through the service at the measured caps${r.bonService ? " against the service's best-of-N" : " against the in-process best-of-N"}: ${f(r.ratioServiceCaps)}. (${r.seconds.toFixed(0)} s)`,
    );
  }
  lines.push("");
  return lines.join("\n");
}

runMain(import.meta.url, measureServiceCommand);
