/**
 * npm run bench:providers -- [--latency-ms 200] [--problems 3] [--seed 1]
 *
 * The provider layer on each server flavor of the simulated world at a fixed latency per call: wall time and
 * tokens of best-of-N 16 and beam search 16/4, the generator on the flavor (`server` set to match, so the
 * adapter fans out where the server lacks `n` or prompt arrays) and the PRM on a vLLM-flavoured server. The
 * ratio compares each flavor's wall time with vLLM's native `n` in the same run; samples differ with the seeds,
 * so a search may take another number of steps: wall time per engine step is the like-for-like figure. The ledger is checked against
 * what the servers billed: equal where usage is reported, at least it where not (a vLLM without usage).
 */
import { serve, type ServerType } from "@hono/node-server";
import type { AddressInfo } from "node:net";
import { startExecution } from "../src/engine/executor";
import { runToEnd } from "../src/engine/executeStep";
import { StrategySpecSchema, type StrategySpecInput } from "../src/engine/strategies";
import { loadWorld } from "../src/eval/io";
import { command, intArg, runMain } from "./cli";
import { generateProblems } from "../src/sim/problems";
import { createSimServer, SIM_FLAVORS, type SimFlavor } from "../src/sim/server";
import { wire } from "../src/wiring/providers";

async function listen(app: {
  fetch: (r: Request) => Response | Promise<Response>;
}): Promise<{ base: string; server: ServerType }> {
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () =>
      resolve({ base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }),
    );
  });
}

async function billed(base: string): Promise<number> {
  return ((await (await fetch(`${base}/_sim/stats`)).json()) as { billedTokens: number }).billedTokens;
}

export const benchProvidersCommand = command({
  name: "bench:providers",
  summary:
    "Wall time and tokens of best-of-N 16 and beam search 16/4 on each simulated server flavor (fan-out vs native n), and the ledger against what the servers billed.",
  options: {
    "latency-ms": { type: "string", arg: "N", help: "latency per provider call (default 200)" },
    problems: { type: "string", arg: "N", help: "problems per strategy and flavor (default 3)" },
    seed: { type: "string", arg: "N", help: "the problems' seed (default 1)" },
  },
  run: benchProviders,
});

async function benchProviders(args: { "latency-ms"?: string; problems?: string; seed?: string }): Promise<void> {
  const latencyMs = intArg("latency-ms", args["latency-ms"], 200, 0);
  const count = intArg("problems", args.problems, 3, 1);
  const seed = intArg("seed", args.seed, 1, 0);
  const world = loadWorld();
  const problems = generateProblems(world, seed, count).map((r) => r.problem);
  const latency = { perCallMs: latencyMs, perTokenMs: 0 };
  const prm = await listen(createSimServer(world, { latency, flavor: "vllm" }));
  const strategies: [string, StrategySpecInput][] = [
    ["best-of-N 16", { strategy: "best-of-n", n: 16 }],
    ["beam 16/4", { strategy: "beam-search", n: 16, width: 4 }],
  ];
  const cases: { label: string; flavor: SimFlavor; usage: boolean }[] = [
    ...SIM_FLAVORS.map((flavor) => ({ label: flavor, flavor, usage: true })),
    { label: "vllm (no usage)", flavor: "vllm", usage: false },
  ];
  const native = new Map<string, number>();
  const lines: string[] = [];
  lines.push(
    `latency ${latencyMs} ms/call, ${count} problems, seed ${seed}; generator on the flavor, PRM on vLLM; concurrency 6`,
    "",
    "| server | strategy | wall s | ratio to vLLM native n | engine steps | generator requests | wall per step s | ledger tokens | billed tokens | ledger ≥ billed |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  );
  for (const c of cases) {
    const gen = await listen(createSimServer(world, { latency, flavor: c.flavor, usage: c.usage }));
    const providers = JSON.stringify({
      generator: {
        kind: "openai-completions",
        server: c.flavor,
        baseUrl: gen.base,
        model: "sim-base",
        parameters: 3e9,
      },
      verifier: { kind: "vllm-prm", baseUrl: prm.base, model: "sim-prm", parameters: 7e9 },
    });
    const w = wire(providers, {});
    if (!w.ok) throw new Error(w.error);
    for (const [name, input] of strategies) {
      const spec = StrategySpecSchema.parse(input);
      const before = (await billed(gen.base)) + (await billed(prm.base));
      const served0 = ((await (await fetch(`${gen.base}/_sim/stats`)).json()) as { served: number }).served;
      let tokens = 0;
      let steps = 0;
      const began = performance.now();
      for (const [i, question] of problems.entries()) {
        const started = startExecution(
          { question },
          spec,
          { generations: 64, tokens: 2_000_000 },
          seed + i,
          w.wired.costs,
        );
        if (!started.ok) throw new Error(started.error);
        const end = await runToEnd(started.execution, w.wired.providers, w.wired.costs);
        if (end.stopReason !== "complete") throw new Error(`${c.label} ${name}: ${end.stopReason}: ${end.detail}`);
        tokens += end.ledger.tokens;
        steps += end.steps;
      }
      const wall = (performance.now() - began) / 1000;
      const bill = (await billed(gen.base)) + (await billed(prm.base)) - before;
      const requests = ((await (await fetch(`${gen.base}/_sim/stats`)).json()) as { served: number }).served - served0;
      if (c.label === "vllm") native.set(name, wall);
      const ratio = wall / (native.get(name) ?? wall);
      const holds = c.usage
        ? tokens === bill
          ? "equal"
          : `NO (${tokens} vs ${bill})`
        : tokens >= bill
          ? "yes (estimated)"
          : "NO";
      lines.push(
        `| ${c.label} | ${name} | ${wall.toFixed(2)} | ${ratio.toFixed(2)} | ${steps} | ${requests} | ${(wall / steps).toFixed(2)} | ${tokens} | ${bill} | ${holds} |`,
      );
      process.stderr.write(`${lines.at(-1)}\n`);
    }
    gen.server.close();
  }
  prm.server.close();
  process.stdout.write(`${lines.join("\n")}\n`);
}

runMain(import.meta.url, benchProvidersCommand);
