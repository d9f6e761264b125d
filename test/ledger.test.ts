/**
 * The ledger against what a provider billed, over real HTTP against the simulated world's server (which
 * counts the tokens it billed): every billed attempt is charged, a step interrupted by a crash is either
 * replayed under the same request id or charged at its worst case, and a deadline bounds calls in flight.
 */
import { serve, type ServerType } from "@hono/node-server";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { CostModel } from "../src/engine/budget";
import { startExecution, type Execution } from "../src/engine/executor";
import {
  executeStep,
  runToEnd,
  type ProviderSet,
  type StepIntent,
  type StepJournal,
  type StepResults,
} from "../src/engine/executeStep";
import { StrategySpecSchema, type StrategySpecInput } from "../src/engine/strategies";
import { loadWorld } from "../src/eval/io";
import { assembleProviders } from "../src/providers/index";
import {
  generatorAdapter,
  ProviderConfigSchema,
  verifierAdapter,
  type ProviderConfigInput,
} from "../src/wiring/providers";
import { generateProblems } from "../src/sim/problems";
import { createSimServer } from "../src/sim/server";

const world = loadWorld("worlds/default.json");
const question = generateProblems(world, 5, 3)[2]!.problem;

interface Sim {
  base: string;
  server: ServerType;
}

async function startSim(replay: boolean): Promise<Sim> {
  const app = createSimServer(world, { latency: { perCallMs: 0, perTokenMs: 0 }, stallMs: 5_000, replay });
  let server!: ServerType;
  await new Promise<void>((resolve) => {
    server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve());
  });
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

let replaying: Sim;
let plain: Sim;

beforeAll(async () => {
  replaying = await startSim(true);
  plain = await startSim(false);
});

afterAll(async () => {
  for (const sim of [replaying, plain]) await new Promise<void>((resolve) => sim.server.close(() => resolve()));
});

beforeEach(async () => {
  for (const sim of [replaying, plain]) await fetch(`${sim.base}/_sim/faults`, { method: "DELETE" });
});

async function billed(sim: Sim): Promise<number> {
  return ((await (await fetch(`${sim.base}/_sim/stats`)).json()) as { billedTokens: number }).billedTokens;
}

async function fault(sim: Sim, kind: string, count: number, path: string): Promise<void> {
  await fetch(`${sim.base}/_sim/faults`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ kind, count, path }),
  });
}

function wire(sim: Sim, replaysRequests: boolean, timeoutMs = 2_000): { providers: ProviderSet; costs: CostModel } {
  const card = {
    parameters: 3e9,
    inputPricePerMillion: 0.1,
    outputPricePerMillion: 0.2,
    timeoutMs,
    retries: 3,
    baseUrl: sim.base,
    replaysRequests,
  };
  const config = (input: Record<string, unknown>) =>
    ProviderConfigSchema.parse({ ...card, ...input } as ProviderConfigInput);
  const ctx = { backoffBaseMs: 1, random: () => 0.5 };
  return assembleProviders({
    generator: generatorAdapter("gen", config({ kind: "openai-completions", model: "sim-base" }), ctx),
    verifier: verifierAdapter("prm", config({ kind: "vllm-prm", model: "sim-prm" }), ctx),
  });
}

function start(input: StrategySpecInput, costs: CostModel, budget = {}): Execution {
  const r = startExecution({ question }, StrategySpecSchema.parse(input), budget, 4, costs);
  if (!r.ok) throw new Error(r.error);
  return r.execution;
}

/** A journal in memory that can make the host "crash" right after the providers answered. */
function memoryJournal(): StepJournal & { entry?: StepIntent | StepResults; crashAfterCalls: boolean } {
  const j = {
    entry: undefined as StepIntent | StepResults | undefined,
    crashAfterCalls: false,
    async recall(step: number) {
      return j.entry?.step === step ? j.entry : undefined;
    },
    async keep(entry: StepIntent | StepResults) {
      if ("results" in entry && j.crashAfterCalls) throw new Error("host crashed");
      j.entry = entry;
    },
  };
  return j;
}

/** Run to the end with a journal; the first step's host crashes once after its calls returned. */
async function runWithCrash(exec: Execution, providers: ProviderSet, costs: CostModel): Promise<Execution> {
  const journal = memoryJournal();
  journal.crashAfterCalls = true;
  const ports = { providers, costs, now: Date.now, journal, requestKey: crypto.randomUUID() };
  await expect(executeStep(exec, ports)).rejects.toThrow("host crashed");
  journal.crashAfterCalls = false;
  let current = exec; // what the host had committed: the state before the step
  while (current.status === "running") {
    current = (await executeStep(current, ports)).exec;
    journal.entry = undefined; // committed
  }
  return current;
}

describe("a crash during a step's calls", () => {
  const spec = { strategy: "best-of-n", n: 8 } as const;

  it("against a provider that replays request ids: the calls are repeated under the same ids and billed once", async () => {
    const { providers, costs } = wire(replaying, true);
    const clean = await runToEnd(start(spec, costs), providers, costs);
    const before = await billed(replaying);
    const end = await runWithCrash(start(spec, costs), providers, costs);
    expect(end.stopReason).toBe("complete");
    // What the provider billed is exactly what the solve reports, and the same as a run without a crash.
    expect(end.ledger.tokens).toBe((await billed(replaying)) - before);
    expect(end.ledger.tokens).toBe(clean.ledger.tokens);
    expect(end.outcome?.answer).toBe(clean.outcome?.answer);
  });

  it("against a provider that does not: the interrupted calls are charged at their worst case, marked, before the retry", async () => {
    const { providers, costs } = wire(plain, false);
    const clean = await runToEnd(start(spec, costs), providers, costs);
    const before = await billed(plain);
    const end = await runWithCrash(start(spec, costs), providers, costs);
    expect(end.stopReason).toBe("complete");
    const providerBilled = (await billed(plain)) - before;
    // The provider billed the step twice; the solve charged the lost call at its bound, never less.
    expect(providerBilled).toBeGreaterThan(clean.ledger.tokens);
    expect(end.ledger.tokens).toBeGreaterThanOrEqual(providerBilled);
    expect(end.ledger.tokens).toBeGreaterThan(clean.ledger.tokens);
  });

  it("the interrupted charge counts against the caps: a budget it exhausts stops the solve instead of calling again", async () => {
    const { providers, costs } = wire(plain, false);
    const clean = await runToEnd(start(spec, costs), providers, costs);
    // Enough for the step's worst case once, not twice.
    const first = await runToEnd(start(spec, costs, {}), providers, costs);
    const exec = start(spec, costs, { tokens: Math.floor(first.ledger.tokens * 1.5) + 8 * 1024 });
    const end = await runWithCrash(exec, providers, costs);
    expect(end.ledger.tokens).toBeLessThanOrEqual(exec.budget.tokens!);
    expect(end.ledger.tokens).toBeGreaterThan(clean.ledger.tokens / 2);
  });
});

describe("every billed attempt is charged", () => {
  const spec = { strategy: "best-of-n", n: 4 } as const;

  it("three truncated replies, then a good one: each truncated attempt is charged at its bound", async () => {
    const { providers, costs } = wire(plain, false);
    const clean = await runToEnd(start(spec, costs), providers, costs);
    await fault(plain, "truncated", 3, "/v1/completions");
    const before = await billed(plain);
    const end = await runToEnd(start(spec, costs), providers, costs);
    const providerBilled = (await billed(plain)) - before;
    expect(end.stopReason).toBe("complete");
    expect(providerBilled).toBeGreaterThan(clean.ledger.tokens);
    expect(end.ledger.tokens).toBeGreaterThanOrEqual(providerBilled);
    expect(end.ledger.calls).toBe(clean.ledger.calls + 3);
  });

  it("against a replaying provider the retries of one call are one billed request: nothing extra is charged", async () => {
    const { providers, costs } = wire(replaying, true);
    await fault(replaying, "truncated", 1, "/v1/completions");
    const before = await billed(replaying);
    const exec = start(spec, costs);
    const end = (await executeStep(exec, { providers, costs, now: Date.now, requestKey: crypto.randomUUID() })).exec;
    expect(end.ledger.tokens).toBe((await billed(replaying)) - before);
  });

  it("a reply with the wrong number of choices fails the solve and is charged with the usage it reported", async () => {
    const { providers, costs } = wire(plain, false);
    await fault(plain, "wrong-count", 1, "/v1/completions");
    const before = await billed(plain);
    const end = await runToEnd(start(spec, costs), providers, costs);
    expect(end.stopReason).toBe("failed");
    expect(end.detail).toMatch(/expected 4 choices/);
    expect(end.ledger.tokens).toBe((await billed(plain)) - before);
  });
});

describe("the deadline bounds calls in flight", () => {
  it("a stalled call is cut at the deadline: the solve stops within the margin with the best answer so far", async () => {
    const { providers, costs } = wire(plain, false, 60_000);
    await fault(plain, "timeout", 1, "/pooling");
    const began = Date.now();
    const deadlineMs = 700;
    const end = await runToEnd(
      start({ strategy: "best-of-n", n: 4 }, costs, { deadline: began + deadlineMs }),
      providers,
      costs,
      Date.now,
    );
    const took = Date.now() - began;
    expect(end.stopReason).toBe("deadline");
    // Aim: within the larger of 1 s and 10% past the deadline (the call alone would have stalled 5 s).
    expect(took).toBeLessThan(deadlineMs + Math.max(1_000, deadlineMs * 0.1));
    // The samples were paid for; the scoring never answered, so the answer is their majority.
    expect(end.ledger.samples).toBe(4);
    expect(end.outcome?.answer).not.toBeNull();
  });
});

describe("a step split across invocations by outbound requests", () => {
  it("an LLM-judge scoring step (one request per prefix) runs in parts within the limit and ends like an unsplit one", async () => {
    const card = {
      parameters: 3e9,
      inputPricePerMillion: 0.1,
      outputPricePerMillion: 0.2,
      timeoutMs: 2_000,
      retries: 1,
      baseUrl: replaying.base,
    };
    const config = (input: Record<string, unknown>) =>
      ProviderConfigSchema.parse({ ...card, ...input } as ProviderConfigInput);
    const ctx = { backoffBaseMs: 1, random: () => 0.5 };
    const { providers, costs } = assembleProviders({
      generator: generatorAdapter("gen", config({ kind: "openai-completions", model: "sim-base" }), ctx),
      verifier: verifierAdapter("judge", config({ kind: "llm-judge", model: "sim-base" }), ctx),
    });
    const spec = { strategy: "best-of-n", n: 8 } as const;
    const whole = await runToEnd(start(spec, costs), providers, costs);
    const journal = memoryJournal();
    // A request is the unit of splitting: one solution (of at most a dozen steps here) always fits.
    const limit = 12;
    const ports = { providers, costs, now: Date.now, journal, requestKey: crypto.randomUUID() };
    let exec = start(spec, costs);
    let invocations = 0;
    let served = 0;
    const statsOf = async () =>
      ((await (await fetch(`${replaying.base}/_sim/stats`)).json()) as { served: number }).served;
    while (exec.status === "running") {
      // One invocation: steps until its requests are spent or a step yields.
      invocations += 1;
      const before = await statsOf();
      let left = limit;
      for (;;) {
        const report = await executeStep(exec, { ...ports, subrequests: { left, perInvocation: limit } });
        left -= report.subrequests;
        if (report.yielded) break;
        exec = report.exec;
        journal.entry = undefined;
        if (exec.status !== "running") break;
      }
      const made = (await statsOf()) - before;
      expect(made).toBeLessThanOrEqual(limit);
      served += made;
    }
    expect(exec.stopReason).toBe("complete");
    // 1 generation request and one judge call per step of each of the 8 solutions, in many invocations.
    expect(invocations).toBeGreaterThan(2);
    expect(served).toBe(1 + whole.outcome!.candidates.reduce((t, c) => t + c.steps.length, 0));
    expect(exec.outcome?.answer).toBe(whole.outcome?.answer);
    expect(exec.ledger.tokens).toBe(whole.ledger.tokens);
  });
});

describe("faults that the review of the ledger found", () => {
  it("when one batch of a call fails, the batches answered beside it are charged", async () => {
    const card = {
      parameters: 3e9,
      inputPricePerMillion: 0.1,
      outputPricePerMillion: 0.2,
      timeoutMs: 2_000,
      retries: 1,
      baseUrl: plain.base,
      maxBatch: 1,
    };
    const config = (input: Record<string, unknown>) =>
      ProviderConfigSchema.parse({ ...card, ...input } as ProviderConfigInput);
    const ctx = { backoffBaseMs: 1, random: () => 0.5 };
    const { providers, costs } = assembleProviders({
      generator: generatorAdapter("gen", config({ kind: "openai-completions", model: "sim-base" }), ctx),
      verifier: verifierAdapter("prm", config({ kind: "vllm-prm", model: "sim-prm" }), ctx),
    });
    const before = await billed(plain);
    // Revisions: the first step is one request; the second is three (one per chain), one batch each.
    let exec = start({ strategy: "revisions", sequential: 2, parallel: 3 }, costs);
    exec = (await executeStep(exec, { providers, costs, now: Date.now })).exec;
    await fault(plain, "wrong-count", 1, "/v1/completions");
    exec = (await executeStep(exec, { providers, costs, now: Date.now })).exec;
    expect(exec.stopReason).toBe("failed");
    expect(exec.ledger.tokens).toBe((await billed(plain)) - before);
  });

  it("a step whose calls keep taking the host down is given up after a few tries, with its charges", async () => {
    const { providers, costs } = wire(replaying, true);
    const journal = memoryJournal();
    journal.crashAfterCalls = true;
    const ports = { providers, costs, now: Date.now, journal, requestKey: crypto.randomUUID() };
    const exec = start({ strategy: "best-of-n", n: 4 }, costs);
    let end: Execution | undefined;
    for (let i = 0; i < 10 && !end; i++) {
      try {
        end = (await executeStep(exec, ports)).exec;
      } catch {
        // the host died again
      }
    }
    expect(end?.stopReason).toBe("failed");
    expect(end?.detail).toMatch(/died 4 times/);
    // The call that was never replayed is charged at its worst case.
    expect(end!.ledger.tokens).toBeGreaterThan(0);
  });

  it("retries stop before they could take spend past a cap", async () => {
    const { providers, costs } = wire(plain, false);
    // A cap a few times what a clean solve spends, far below what three garbled attempts are charged at
    // their worst case: without the check before each retry, the retries would carry spend past it.
    const clean = await runToEnd(start({ strategy: "best-of-n", n: 4 }, costs), providers, costs);
    const bound = clean.ledger.tokens * 3;
    await fault(plain, "truncated", 3, "/v1/completions");
    const end = await runToEnd(start({ strategy: "best-of-n", n: 4 }, costs, { tokens: bound }), providers, costs);
    expect(end.ledger.tokens).toBeLessThanOrEqual(bound);
    expect(end.stopReason).not.toBe("complete");
  });
});
