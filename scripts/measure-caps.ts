/**
 * npm run measure:caps -- [--policy NAME] [--world FILE] [--seeds LIST] [--problems N] [--caps LIST]
 *                         [--service URL --key KEY [--concurrency N]]
 *
 * What the service's hard cap does to a shipped policy's choices: per cap (in the policy's unit), each problem
 * runs the configuration the policy chooses at that cap twice in process on the simulated world, with the same
 * seed — once with the cap enforced by the executor as the service enforces it (every step's worst case must
 * fit what is left), once uncapped (what calibrate's `policyCurve` assumes) — and the paired difference in
 * accuracy and mean cost is reported. Held-out seeds by default (11, 12: the shipped policies were calibrated
 * on 1–5). The service was measured to agree with the capped figure (`npm run measure:service`), so this is the
 * quick way to see what a cap costs a policy.
 *
 * With `--service` (a running `npm run dev` whose active policy is the same one), every problem is also solved
 * there as an auto solve within the same cap and with the seed the in-process run used for the policy's choice,
 * with feedback posted: the service's figure and its paired difference from the capped in-process one (on the
 * simulated world, a solve that did not explore should match it exactly).
 */
import type { Budget } from "../src/engine/budget";
import { loadWorld } from "../src/eval/io";
import { serviceSeed } from "../src/eval/serviceCalibration";
import { createServiceClient, describeServiceFailure, type ServiceClient } from "../src/eval/serviceClient";
import { pairedDifference, runAutoThroughService, runCappedInProcess } from "../src/eval/serviceMeasure";
import { choosePolicyArm } from "../src/policy/choose";
import { configuredPolicy, SHIPPED_POLICY_NAMES } from "../src/policy/configured";
import { generateProblems } from "../src/sim/problems";
import { command, InputError, intArg, pick, runMain, seedsArg, type Values } from "./cli";

const options = {
  policy: { type: "string", arg: "NAME", help: "a shipped policy that chooses from the text (default default-text)" },
  ...pick("world", "problems", "service", "key", "concurrency"),
  seeds: { type: "string", arg: "LIST", help: "seeds, comma-separated (default 11,12: held out)" },
  caps: { type: "string", arg: "LIST", help: "caps in the policy's unit, comma-separated" },
} as const;

export const measureCapsCommand = command({
  name: "measure:caps",
  summary: `What the service's hard cap does to a shipped policy's choices: per cap, each problem runs the
configuration the policy chooses, capped as the service caps it and uncapped; the paired difference is reported.`,
  options,
  run,
});

async function run(args: Values<typeof options>): Promise<void> {
  const name = args.policy ?? "default-text";
  if (!(SHIPPED_POLICY_NAMES as readonly string[]).includes(name))
    throw new InputError(`--policy must be one of ${SHIPPED_POLICY_NAMES.join(", ")}, got "${name}"`);
  const policy = configuredPolicy({ POLICY: name });
  if (policy.probe)
    throw new InputError(
      `--policy ${name} probes first: its arm is chosen inside the solve (measure it with npm run measure:service)`,
    );
  const world = loadWorld(args.world ?? "worlds/default.json");
  const seeds = args.seeds === undefined ? [11, 12] : seedsArg("--seeds", args.seeds);
  const count = intArg("problems", args.problems, 300, 10);
  const caps =
    args.caps === undefined
      ? policy.costUnit === "tokens"
        ? [4096, 8192, 16384, 65536]
        : [policy.defaultBudget / 8, policy.defaultBudget / 4, policy.defaultBudget / 2, policy.defaultBudget]
      : args.caps.split(",").map((c) => {
          const x = Number(c.trim());
          if (!(x > 0)) throw new InputError(`--caps: "${c}" is not a positive number`);
          return x;
        });
  const unit = policy.costUnit;
  let client: ServiceClient | null = null;
  if (args.service !== undefined) {
    const key = args.key ?? process.env.TTC_KEY;
    if (!key) throw new InputError("--service needs --key KEY (or TTC_KEY)");
    client = createServiceClient({ base: args.service, key });
    try {
      const dry = await client.dryRun({
        prompt: "Start with 48. Add 17. What is the final number?",
        strategy: { strategy: "auto" },
        budget: { [unit]: caps[0] as number },
      });
      const version = dry.policy?.policyVersion ?? "(none)";
      if (version !== policy.version)
        throw new InputError(
          `the service chooses with policy ${version}, not ${name} (${policy.version}): start it with POLICY=${name} and no promoted version`,
        );
    } catch (err) {
      if (err instanceof InputError) throw err;
      const line = describeServiceFailure(err, client.base);
      if (line) throw new InputError(line);
      throw err;
    }
  }
  const concurrency = intArg("concurrency", args.concurrency, 4, 1);
  const amount = (x: number): string =>
    unit === "tokens"
      ? `${Math.round(x)} tokens`
      : unit === "money"
        ? `$${x.toPrecision(3)}`
        : `${x.toExponential(2)} FLOPs`;
  const spent = (r: { tokens: number; money: number; flops: number }): number => r[unit];
  const lines = [
    `# What the hard cap does to ${name} (${policy.version}), world ${world.name}, ${count} problems per seed`,
    "",
    `| seed | cap | capped (as the service) | uncapped (as policyCurve) | accuracy, capped − uncapped (pts) | mean cost, capped / uncapped | solves cut by the cap |${client ? " through the service | service − capped (pts) | service mean cost | explored | same outcome as capped, of those not exploring |" : ""}`,
    `|---|---|---|---|---|---|---|${client ? "---|---|---|---|---|" : ""}`,
  ];
  for (const seed of seeds) {
    const problems = generateProblems(world, seed, count).map((r) => ({
      id: r.unique_id,
      question: r.problem,
      answer: r.answer,
    }));
    for (const cap of caps) {
      const choose = (i: number) => choosePolicyArm(policy, problems[i]!.question, cap).arm.spec;
      const budget: Budget = { [unit]: cap };
      const capped = await runCappedInProcess(world, problems, budget, choose, (i, spec) => serviceSeed(seed, i, spec));
      const free = await runCappedInProcess(world, problems, {}, choose, (i, spec) => serviceSeed(seed, i, spec));
      const acc = (r: readonly { correct: boolean }[]) => r.filter((x) => x.correct).length / r.length;
      const mean = (r: readonly { tokens: number; money: number; flops: number }[]) =>
        r.reduce((t, x) => t + spent(x), 0) / r.length;
      const d = pairedDifference(
        capped.map((x) => (x.correct ? 1 : 0)),
        free.map((x) => (x.correct ? 1 : 0)),
      );
      let service = "";
      if (client) {
        const seedOf = (i: number) => serviceSeed(seed, i, choose(i));
        const through = await runAutoThroughService(client, problems, {
          cap: budget,
          concurrency,
          seedOf,
          feedback: true,
        });
        const ds = pairedDifference(
          through.map((x) => (x.correct ? 1 : 0)),
          capped.map((x) => (x.correct ? 1 : 0)),
        );
        const own = through.filter((x) => !x.exploration);
        const same = own.filter(
          (x) =>
            x.correct === capped[x.problem]!.correct &&
            Math.abs(spent(x) - spent(capped[x.problem]!)) <= 1e-9 * Math.max(1, spent(x)),
        ).length;
        service = ` ${(100 * acc(through)).toFixed(1)}% | ${(100 * ds.mean).toFixed(1)} [${(100 * ds.lo).toFixed(1)}, ${(100 * ds.hi).toFixed(1)}] | ${amount(mean(through))} | ${through.length - own.length} | ${same} of ${own.length} |`;
      }
      lines.push(
        `| ${seed} | ${amount(cap)} | ${(100 * acc(capped)).toFixed(1)}% | ${(100 * acc(free)).toFixed(1)}% | ${(100 * d.mean).toFixed(1)} [${(100 * d.lo).toFixed(1)}, ${(100 * d.hi).toFixed(1)}] | ${amount(mean(capped))} / ${amount(mean(free))} | ${capped.filter((x) => x.cut).length} |${service}`,
      );
      process.stderr.write(`measure:caps: seed ${seed}, cap ${amount(cap)} done\n`);
    }
  }
  process.stdout.write(lines.join("\n") + "\n");
}

runMain(import.meta.url, measureCapsCommand);
