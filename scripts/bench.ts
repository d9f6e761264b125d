/**
 * npm run bench -- [--solves N] [--out DIR]
 *
 * Orchestration overhead of the service, measured against `wrangler dev` (local workerd, local D1 and
 * Durable Objects) with the simulated world served over HTTP by this process:
 *
 * 1. zero provider latency, one solve at a time: overhead per executor step = (client wall time of a sync
 *    solve − time the simulated providers spent answering it) / executor steps, for best-of-N 16 and beam
 *    search N=16, M=4 (p50 and p95 over solves);
 * 2. zero latency, solves per second and p95 solve latency at concurrency 1, 16 and 200, beside an in-process
 *    baseline (the same executor and HTTP adapters against the same simulated server, without Workers);
 * 3. realistic latency (30 ms per call + 10 ms per 100 tokens): the share of wall time that is not provider time.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startExecution } from "../src/engine/executor";
import { runToEnd } from "../src/engine/executeStep";
import { StrategySpecSchema } from "../src/engine/strategies";
import { loadWorld } from "../src/eval/io";
import { assembleProviders } from "../src/providers/index";
import { generatorAdapter, ProviderConfigSchema, verifierAdapter } from "../src/wiring/providers";
import { command, intArg, runMain } from "./cli";
import { freePort, freshState, quantile, seedKey, signalWorker, startSim, startWorker } from "./localService";

export const benchCommand = command({
  name: "bench",
  summary: "Orchestration overhead of the service against wrangler dev, the simulated world served over HTTP.",
  options: {
    solves: { type: "string", arg: "N", help: "solves per measurement (default 30)" },
    out: { type: "string", arg: "DIR", help: "where bench.json is written (default out/bench)" },
  },
  run(values) {
    SOLVES = intArg("solves", values.solves, 30, 1);
    OUT = values.out ?? "out/bench";
    return main();
  },
});
let SOLVES = 30;
let OUT = "out/bench";
const PROBLEM = "Start with 48. Add 17. Multiply by 6. Subtract 129. Divide by 3. What is the final number?";
const STRATEGIES = {
  "best-of-n(16)": { strategy: "best-of-n", n: 16 },
  "beam-search(16, M=4)": { strategy: "beam-search", n: 16, width: 4 },
} as const;

/** The Authorization header for the running service's seeded key. */
let auth: Record<string, string> = {};

const CARD = { parameters: 3e9, inputPricePerMillion: 0.1, outputPricePerMillion: 0.2, timeoutMs: 30_000, retries: 0 };

function providersConfig(simBase: string) {
  return {
    generator: { kind: "openai-completions", baseUrl: simBase, model: "sim-base", ...CARD },
    verifier: { kind: "vllm-prm", baseUrl: simBase, model: "sim-prm", ...CARD, parameters: 7e9 },
  } as const;
}

async function sim(latency: { perCallMs: number; perTokenMs: number }) {
  const s = await startSim(loadWorld(), { latency });
  return { ...s, busy: async () => (await s.stats()).busyMs };
}

interface StepTiming {
  scheduledMs?: number;
  stepMs: number;
  providerMs: number;
}

/** The per-step timings the solve's Durable Object reported in its events. */
async function timings(port: number, id: string): Promise<StepTiming[]> {
  const text = await (await fetch(`http://127.0.0.1:${port}/v1/solves/${id}/events`, { headers: auth })).text();
  const out: StepTiming[] = [];
  for (const block of text.split("\n\n")) {
    const event = /^event: ?(.*)$/m.exec(block)?.[1];
    const data = /^data: ?(.*)$/m.exec(block)?.[1];
    if ((event === "step" || event === "done") && data) {
      const t = (JSON.parse(data) as { timing?: StepTiming }).timing;
      if (t) out.push(t);
    }
  }
  return out;
}

async function solve(
  port: number,
  strategy: unknown,
  seed: number,
): Promise<{ wallMs: number; steps: number; id: string }> {
  const began = performance.now();
  const res = await fetch(`http://127.0.0.1:${port}/v1/solves`, {
    method: "POST",
    headers: { "content-type": "application/json", ...auth },
    body: JSON.stringify({ prompt: PROBLEM, strategy, mode: "sync", seed }),
  });
  const text = await res.text();
  let body: { id: string; status?: string; steps?: number; error?: unknown };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new Error(`solve answered HTTP ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`);
  }
  if (res.status !== 200 || body.status !== "done")
    throw new Error(`solve failed: ${res.status} ${JSON.stringify(body)}`);
  return { wallMs: performance.now() - began, steps: body.steps ?? 0, id: body.id };
}

async function sequential(port: number, busy: () => Promise<number>, strategy: unknown, n: number) {
  const perStep: number[] = [];
  const shares: number[] = [];
  const inObject: number[] = [];
  const scheduled: number[] = [];
  for (let i = 0; i < n; i++) {
    const b0 = await busy();
    const r = await solve(port, strategy, 1000 + i);
    const providerMs = (await busy()) - b0;
    perStep.push((r.wallMs - providerMs) / Math.max(1, r.steps));
    shares.push((r.wallMs - providerMs) / r.wallMs);
    for (const t of await timings(port, r.id)) {
      inObject.push(t.stepMs - t.providerMs);
      if (t.scheduledMs !== undefined) scheduled.push(t.scheduledMs);
    }
  }
  return { perStep, shares, inObject, scheduled };
}

/** Solves per second and p95 solve latency with `concurrency` clients running `total` solves. */
async function throughput(
  run: (seed: number) => Promise<unknown>,
  concurrency: number,
  total: number,
): Promise<{ rate: number; p95: number }> {
  let next = 0;
  const latencies: number[] = [];
  const began = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const t = performance.now();
        await run(5000 + next++);
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { rate: total / ((performance.now() - began) / 1000), p95: quantile(latencies, 0.95) };
}

/** The in-process baseline: the same executor and HTTP adapters against the same server, without Workers. */
function inProcess(simBase: string, strategy: unknown): (seed: number) => Promise<unknown> {
  const config = providersConfig(simBase);
  const { providers, costs } = assembleProviders({
    generator: generatorAdapter("generator", ProviderConfigSchema.parse(config.generator)),
    verifier: verifierAdapter("verifier", ProviderConfigSchema.parse(config.verifier)),
  });
  const spec = StrategySpecSchema.parse(strategy);
  return async (seed) => {
    const started = startExecution({ question: PROBLEM }, spec, {}, seed, costs);
    if (!started.ok) throw new Error(started.error);
    const end = await runToEnd(started.execution, providers, costs, Date.now);
    if (end.stopReason !== "complete") throw new Error(`baseline solve ended ${end.stopReason}: ${end.detail}`);
  };
}

async function main(): Promise<void> {
  const port = await freePort();
  const results: Record<string, unknown> = { solves: SOLVES, problem: PROBLEM };
  const lines: string[] = [];

  const fastSim = await sim({ perCallMs: 0, perTokenMs: 0 });
  const fastState = freshState();
  auth = { authorization: `Bearer ${await seedKey(fastState)}` };
  let worker = await startWorker(port, fastState, providersConfig(fastSim.base));
  try {
    for (const [name, strategy] of Object.entries(STRATEGIES)) {
      await solve(port, strategy, 1); // warm up
      const { perStep, inObject, scheduled } = await sequential(port, fastSim.busy, strategy, SOLVES);
      const row = { p50: quantile(perStep, 0.5), p95: quantile(perStep, 0.95) };
      const step = { p50: quantile(inObject, 0.5), p95: quantile(inObject, 0.95) };
      const wait = { p50: quantile(scheduled, 0.5), p95: quantile(scheduled, 0.95) };
      results[`overheadPerStepMs ${name}`] = row;
      results[`inObjectStepMs ${name}`] = step;
      results[`alarmSchedulingMs ${name}`] = wait;
      lines.push(
        `${name}: orchestration overhead per executor step p50 ${row.p50.toFixed(2)} ms, p95 ${row.p95.toFixed(2)} ms (end to end, zero-latency providers, ${SOLVES} solves)`,
      );
      lines.push(
        `${name}:   of which the step inside the object (storage, executor, events; no provider time) p50 ${step.p50.toFixed(1)} ms, p95 ${step.p95.toFixed(1)} ms, and alarm scheduling p50 ${wait.p50.toFixed(1)} ms, p95 ${wait.p95.toFixed(1)} ms`,
      );
      for (const c of [1, 16, 200]) {
        const total = Math.max(SOLVES, 2 * c);
        const workers = await throughput((seed) => solve(port, strategy, seed), c, total);
        const baseline = await throughput(inProcess(fastSim.base, strategy), c, total);
        results[`solvesPerSecond ${name} c=${c}`] = { workers, baseline, ratio: workers.rate / baseline.rate };
        lines.push(
          `${name}: concurrency ${c}: ${workers.rate.toFixed(1)} solves/s (p95 ${workers.p95.toFixed(0)} ms) on local workerd; in-process baseline ${baseline.rate.toFixed(1)} solves/s (p95 ${baseline.p95.toFixed(0)} ms); ratio ${(workers.rate / baseline.rate).toFixed(2)}`,
        );
      }
    }
  } finally {
    signalWorker(worker);
    await fastSim.close();
  }

  const slowSim = await sim({ perCallMs: 30, perTokenMs: 0.1 });
  const slowPort = await freePort();
  const slowState = freshState();
  auth = { authorization: `Bearer ${await seedKey(slowState)}` };
  worker = await startWorker(slowPort, slowState, providersConfig(slowSim.base));
  try {
    for (const [name, strategy] of Object.entries(STRATEGIES)) {
      await solve(slowPort, strategy, 1);
      const { shares } = await sequential(slowPort, slowSim.busy, strategy, Math.min(SOLVES, 10));
      const mean = shares.reduce((a, b) => a + b, 0) / shares.length;
      results[`nonProviderShare ${name}`] = mean;
      lines.push(
        `${name}: ${(100 * mean).toFixed(2)}% of wall time is not provider time (30 ms/call + 10 ms/100 tokens)`,
      );
    }
  } finally {
    signalWorker(worker);
    await slowSim.close();
  }

  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, "bench.json"), JSON.stringify(results, null, 1) + "\n");
  process.stdout.write(lines.join("\n") + "\n");
}

runMain(import.meta.url, benchCommand);
