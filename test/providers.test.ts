/**
 * The provider adapters over real HTTP against the simulated world's server: wire formats, batching,
 * validation, and the fault matrix (each fault ends in a retry or a clean provider error, never a hang).
 */
import { serve, type ServerType } from "@hono/node-server";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { CallRecord, CostModel } from "../src/engine/budget";
import { startExecution, type Execution } from "../src/engine/executor";
import { executeStep, runToEnd, type ProviderSet } from "../src/engine/executeStep";
import { StrategySpecSchema } from "../src/engine/strategies";
import type { GenerateRequest } from "../src/engine/types";
import { loadWorld } from "../src/eval/io";
import { assembleProviders, ProviderError } from "../src/providers/index";
import {
  generatorAdapter,
  ProviderConfigSchema,
  verifierAdapter,
  type ProviderConfigInput,
} from "../src/wiring/providers";
import { generateProblems } from "../src/sim/problems";
import { SimModels } from "../src/sim/models";
import { createSimServer } from "../src/sim/server";

const world = loadWorld("worlds/default.json");
const models = new SimModels(world);
const problems = generateProblems(world, 5, 6).map((r) => ({ question: r.problem, answer: r.answer }));
let server: ServerType;
let base = "";

beforeAll(async () => {
  const app = createSimServer(world, { latency: { perCallMs: 0, perTokenMs: 0 }, stallMs: 1500 });
  await new Promise<void>((resolve) => {
    server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve());
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

beforeEach(async () => {
  await fetch(`${base}/_sim/faults`, { method: "DELETE" });
});

async function served(): Promise<number> {
  return ((await (await fetch(`${base}/_sim/stats`)).json()) as { served: number }).served;
}

async function queueFault(kind: string, count = 1, path?: string): Promise<void> {
  await fetch(`${base}/_sim/faults`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ kind, count, path }),
  });
}

const card = { parameters: 3e9, inputPricePerMillion: 0.1, outputPricePerMillion: 0.2 };
const fast = { timeoutMs: 400, retries: 2 };
const ctx = { backoffBaseMs: 1, random: () => 0.5 };
const config = (input: Record<string, unknown>) =>
  ProviderConfigSchema.parse({ ...card, ...fast, baseUrl: base, ...input } as ProviderConfigInput);
const completions = () => generatorAdapter("gen", config({ kind: "openai-completions", model: "sim-base" }), ctx);
const prm = () => verifierAdapter("prm", config({ kind: "vllm-prm", model: "sim-prm" }), ctx);

function request(question: string, over: Partial<GenerateRequest> = {}): GenerateRequest {
  return {
    role: "generator",
    question,
    prefix: [],
    n: 2,
    temperature: 0.8,
    oneStep: false,
    maxTokens: 512,
    seed: 7,
    ...over,
  };
}

describe("openai-completions adapter", () => {
  it("sends requests with the same sampling settings as one prompt array with n, and maps choices back", async () => {
    const before = await served();
    const reqs = problems.slice(0, 3).map((p, i) => request(p.question, { seed: 7 + i }));
    const out = await completions().generate(reqs);
    expect((await served()) - before).toBe(1);
    expect(out).toHaveLength(3);
    out.forEach((r, i) => {
      expect(r.completions).toHaveLength(2);
      // Each request's texts solve its own problem (the final step boxes a number; the question is the one sent).
      for (const c of r.completions) expect(c.text).toMatch(/\\boxed\{-?\d+\}/);
      expect(r.usage.promptTokens).toBeGreaterThan(0);
      expect(reqs[i]!.question).toBe(problems[i]!.question);
    });
  });

  it("splits batches by sampling settings and stops one step at a time when asked", async () => {
    const before = await served();
    const out = await completions().generate([
      request(problems[0]!.question, { oneStep: true, n: 3 }),
      request(problems[1]!.question, { n: 1 }),
    ]);
    expect((await served()) - before).toBe(2);
    expect(out[0]!.completions).toHaveLength(3);
    for (const c of out[0]!.completions) expect(c.text).not.toContain("\n\n");
    expect(out[1]!.completions).toHaveLength(1);
  });

  it("rejects a response with the wrong number of choices as a provider error", async () => {
    await queueFault("wrong-count");
    await expect(completions().generate([request(problems[0]!.question)])).rejects.toThrow(
      /expected 2 choices \(1 prompts × n=2\), got 1/,
    );
  });

  it("names an unknown model", async () => {
    const bad = generatorAdapter("gen", config({ kind: "openai-completions", model: "nope" }), ctx);
    await expect(bad.generate([request(problems[0]!.question)])).rejects.toThrow(/HTTP 404: model "nope"/);
  });
});

describe("fault matrix: a retry, or a clean provider error", () => {
  for (const kind of ["429", "500", "timeout", "truncated", "malformed"]) {
    it(`retries after one ${kind} and succeeds`, async () => {
      await queueFault(kind, 1);
      const before = await served();
      const out = await completions().generate([request(problems[0]!.question)]);
      expect(out[0]!.completions).toHaveLength(2);
      expect((await served()) - before).toBe(2);
    });
  }

  it("gives up after its retries with a message naming the provider, the status and the attempts", async () => {
    await queueFault("500", 10);
    const err = await completions()
      .generate([request(problems[0]!.question)])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as Error).message).toMatch(
      /provider gen \(openai-completions on vllm\): HTTP 500: internal error \(simulated\) \(gave up after 3 attempts\)/,
    );
  });

  it("a timeout that persists fails within the retries, not a hang", async () => {
    await queueFault("timeout", 10);
    const started = Date.now();
    await expect(completions().generate([request(problems[0]!.question)])).rejects.toThrow(
      /no response within 400 ms \(gave up after 3 attempts\)/,
    );
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it("a solve whose provider keeps failing ends failed with its reason and the best answer so far", async () => {
    const { providers, costs } = assembleProviders({ generator: completions(), verifier: prm() });
    await queueFault("500", 20, "/pooling");
    const spec = StrategySpecSchema.parse({ strategy: "best-of-n", n: 4 });
    const started = startExecution({ question: problems[0]!.question }, spec, { generations: 4 }, 3, costs);
    if (!started.ok) throw new Error(started.error);
    const end = await runToEnd(started.execution, providers, costs);
    expect(end.stopReason).toBe("failed");
    expect(end.detail).toMatch(/provider prm \(vllm-prm, model sim-prm\): HTTP 500/);
    // The samples were paid for before scoring failed: the answer falls back to their majority.
    expect(end.outcome?.answer).not.toBeNull();
    expect(end.ledger.samples).toBe(4);
  });
});

describe("vllm-prm adapter (Qwen2.5-Math-PRM format over /pooling)", () => {
  it("returns p_pos per step, equal to the simulated PRM reading the same text", async () => {
    const [gen] = await completions().generate([request(problems[1]!.question, { n: 1 })]);
    const steps = gen!.completions[0]!.text.split("\n\n");
    const [scored] = await prm().score([{ question: problems[1]!.question, steps }]);
    expect(scored!.scores).toHaveLength(steps.length);
    const expected = models.score(problems[1]!.question, steps);
    scored!.scores.forEach((s, i) => expect(s).toBeCloseTo(expected[i]!, 12));
    expect(scored!.usage.promptTokens).toBeGreaterThan(0);
  });

  it("rejects a response missing a result", async () => {
    await queueFault("wrong-count", 1, "/pooling");
    await expect(
      prm().score([
        { question: problems[0]!.question, steps: ["a"] },
        { question: problems[1]!.question, steps: ["b"] },
      ]),
    ).rejects.toThrow(/expected 2 results, got 1/);
  });
});

describe("openai-chat adapter", () => {
  it("generates whole solutions from chat messages", async () => {
    const chat = generatorAdapter("chat", config({ kind: "openai-chat", model: "sim-base" }), ctx);
    const [out] = await chat.generate([request(problems[2]!.question, { n: 3 })]);
    expect(out!.completions).toHaveLength(3);
    for (const c of out!.completions) expect(c.text).toMatch(/\\boxed/);
  });

  it("continues a partial solution with continue_final_message when the server supports it", async () => {
    const chat = generatorAdapter(
      "chat",
      config({ kind: "openai-chat", model: "sim-base", continueFinalMessage: true }),
      ctx,
    );
    const [whole] = await completions().generate([request(problems[2]!.question, { n: 1, temperature: 0 })]);
    const steps = whole!.completions[0]!.text.split("\n\n");
    const [next] = await chat.generate([
      request(problems[2]!.question, { n: 1, temperature: 0, prefix: steps.slice(0, 1), oneStep: true }),
    ]);
    // At temperature 0 the continuation is the greedy solution's second step.
    expect(next!.completions[0]!.text).toBe(steps[1]);
  });

  it("refuses prefix continuation clearly when the server cannot do it", async () => {
    const chat = generatorAdapter("chat", config({ kind: "openai-chat", model: "sim-base", server: "sglang" }), ctx);
    expect(chat.continues).toBe(false);
    await expect(
      chat.generate([request(problems[2]!.question, { prefix: ["Add 1: 1 + 1 = 2."], oneStep: true })]),
    ).rejects.toThrow(/cannot continue a partial solution/);
  });
});

describe("llm-judge verifier (chat with logprobs)", () => {
  it("scores each prefix with P(Yes), matching the simulated PRM's last-step view", async () => {
    const judge = verifierAdapter("judge", config({ kind: "llm-judge", model: "sim-base" }), ctx);
    const [gen] = await completions().generate([request(problems[3]!.question, { n: 1 })]);
    const steps = gen!.completions[0]!.text.split("\n\n");
    const [scored] = await judge.score([{ question: problems[3]!.question, steps }]);
    expect(scored!.scores).toHaveLength(steps.length);
    const full = models.score(problems[3]!.question, steps);
    scored!.scores.forEach((s, i) => expect(s).toBeCloseTo(full[i]!, 5));
  });
});

describe("requests follow the documented wire formats", () => {
  /** A fetch that records what the adapter sends, then forwards it to the simulated world. */
  function recording(): {
    fetch: typeof fetch;
    bodies: { url: string; body: Record<string, unknown>; headers: Headers }[];
  } {
    const bodies: { url: string; body: Record<string, unknown>; headers: Headers }[] = [];
    return {
      bodies,
      fetch: async (input, init) => {
        bodies.push({
          url: String(input),
          body: JSON.parse(String(init?.body)) as Record<string, unknown>,
          headers: new Headers(init?.headers),
        });
        return fetch(input, init);
      },
    };
  }

  it("completions: model, prompt array, n, temperature, max_tokens, seed, stop at a blank line for one step, bearer key", async () => {
    const rec = recording();
    const gen = generatorAdapter(
      "gen",
      config({ kind: "openai-completions", model: "sim-base", apiKeySecret: "KEY" }),
      { ...ctx, fetch: rec.fetch, secrets: { KEY: "sk-test" } },
    );
    await gen.generate([
      request(problems[0]!.question, { oneStep: true, n: 4, seed: 99 }),
      request(problems[1]!.question, { oneStep: true, n: 4, seed: 100 }),
    ]);
    expect(rec.bodies).toHaveLength(1);
    const { url, body, headers } = rec.bodies[0]!;
    expect(url).toBe(`${base}/v1/completions`);
    expect(body).toMatchObject({
      model: "sim-base",
      n: 4,
      temperature: 0.8,
      max_tokens: 512,
      seed: 99,
      stop: ["\n\n"],
    });
    expect(body.prompt).toEqual([
      expect.stringContaining(problems[0]!.question),
      expect.stringContaining(problems[1]!.question),
    ]);
    expect(headers.get("authorization")).toBe("Bearer sk-test");
  });

  it("chat: messages, and continue_final_message without a generation prompt when continuing", async () => {
    const rec = recording();
    const chat = generatorAdapter(
      "chat",
      config({ kind: "openai-chat", model: "sim-base", continueFinalMessage: true }),
      { ...ctx, fetch: rec.fetch },
    );
    await chat.generate([request(problems[2]!.question, { n: 1, prefix: ["Step one."], oneStep: true })]);
    const body = rec.bodies[0]!.body;
    expect(rec.bodies[0]!.url).toBe(`${base}/v1/chat/completions`);
    expect(body).toMatchObject({
      model: "sim-base",
      n: 1,
      continue_final_message: true,
      add_generation_prompt: false,
      stop: ["\n\n"],
    });
    const messages = body.messages as { role: string; content: string }[];
    expect(messages.map((m) => m.role)).toEqual(["system", "user", "assistant"]);
    expect(messages[2]!.content).toBe("Step one.\n\n");
  });

  it("pooling: Qwen2.5-Math-PRM input with one <extra_0> per step", async () => {
    const rec = recording();
    const v = verifierAdapter("prm", config({ kind: "vllm-prm", model: "sim-prm" }), { ...ctx, fetch: rec.fetch });
    await v.score([{ question: problems[0]!.question, steps: ["a", "b", "c"] }]);
    const body = rec.bodies[0]!.body;
    expect(rec.bodies[0]!.url).toBe(`${base}/pooling`);
    expect(body.model).toBe("sim-prm");
    const input = (body.input as string[])[0]!;
    expect(input.split("<extra_0>")).toHaveLength(4);
    expect(input).toContain(`<|im_start|>user\n${problems[0]!.question}<|im_end|>`);
  });

  it("judge: temperature 0, one token, logprobs with top_logprobs", async () => {
    const rec = recording();
    const v = verifierAdapter("judge", config({ kind: "llm-judge", model: "sim-base" }), { ...ctx, fetch: rec.fetch });
    await v.score([{ question: problems[0]!.question, steps: ["a", "b"] }]);
    expect(rec.bodies).toHaveLength(2);
    expect(rec.bodies[0]!.body).toMatchObject({ max_tokens: 1, temperature: 0, logprobs: true, top_logprobs: 5 });
  });
});

describe("a whole solve over HTTP", () => {
  it("runs beam search through the executor, one request per provider per step, deterministically", async () => {
    const run = async () => {
      const { providers, costs } = assembleProviders({ generator: completions(), verifier: prm() });
      const spec = StrategySpecSchema.parse({ strategy: "beam-search", n: 8, width: 4 });
      const started = startExecution(
        { question: problems[4]!.question },
        spec,
        { generations: 8, tokens: 200_000 },
        11,
        costs,
      );
      if (!started.ok) throw new Error(started.error);
      const before = await served();
      const end = await runToEnd(started.execution, providers, costs);
      return { end, calls: (await served()) - before };
    };
    const a = await run();
    const b = await run();
    expect(a.end.stopReason, a.end.detail).toBe("complete");
    expect(a.end.outcome?.answer).not.toBeNull();
    // One HTTP request per provider per executor step.
    expect(a.calls).toBe(a.end.steps);
    expect(a.end.ledger.tokens).toBeLessThanOrEqual(200_000);
    expect(b.end.outcome).toEqual(a.end.outcome);
    expect(b.end.ledger).toEqual(a.end.ledger);
  });
});

/** Run a solve to its end, keeping every provider call record. */
async function runWithCalls(
  exec: Execution,
  providers: ProviderSet,
  costs: CostModel,
): Promise<{ end: Execution; calls: CallRecord[] }> {
  let current = exec;
  const calls: CallRecord[] = [];
  while (current.status === "running") {
    const r = await executeStep(current, { providers, costs, now: () => 0 });
    calls.push(...r.calls);
    current = r.exec;
  }
  return { end: current, calls };
}

describe("escalation to the larger model over HTTP", () => {
  const largeCard = { parameters: 42e9, inputPricePerMillion: 0.9, outputPricePerMillion: 1.8 };
  const large = () =>
    generatorAdapter(
      "large",
      ProviderConfigSchema.parse({
        ...largeCard,
        ...fast,
        baseUrl: base,
        kind: "openai-completions",
        model: "sim-large",
      } as ProviderConfigInput),
      ctx,
    );

  it("a best-of-n spec with model large samples the large model, and is priced at its card", async () => {
    const { providers, costs } = assembleProviders({ generator: completions(), verifier: prm(), large: large() });
    const spec = StrategySpecSchema.parse({ strategy: "best-of-n", n: 4, model: "large" });
    const q = problems[2]!.question;
    const started = startExecution({ question: q }, spec, { generations: 4, tokens: 100_000 }, 3, costs);
    if (!started.ok) throw new Error(started.error);
    const { end, calls } = await runWithCalls(started.execution, providers, costs);
    expect(end.stopReason, end.detail).toBe("complete");
    const gen = calls.find((c) => c.role === "large");
    expect(gen?.provider).toBe("large");
    expect(calls.some((c) => c.role === "generator")).toBe(false);
    // FLOPs: 2·P·D with the large model's P for its tokens, the PRM's for the scoring.
    const g = gen!;
    expect(g.flops).toBeCloseTo(2 * 42e9 * (g.promptTokens + g.completionTokens), -3);
    expect(g.money).toBeCloseTo((g.promptTokens * 0.9 + g.completionTokens * 1.8) / 1e6, 12);
    // The same spec on the base model writes different solutions for the same seed (the large model errs less).
    const base = StrategySpecSchema.parse({ strategy: "best-of-n", n: 4 });
    const startedBase = startExecution({ question: q }, base, { generations: 4, tokens: 100_000 }, 3, costs);
    if (!startedBase.ok) throw new Error(startedBase.error);
    const { end: endBase, calls: baseCalls } = await runWithCalls(startedBase.execution, providers, costs);
    expect(baseCalls.find((c) => c.role === "generator")?.provider).toBe("gen");
    expect(endBase.ledger.flops).toBeLessThan(end.ledger.flops);
  });

  it("without a configured larger model the spec is refused before any call, naming the gap", async () => {
    const { costs } = assembleProviders({ generator: completions(), verifier: prm() });
    const spec = StrategySpecSchema.parse({ strategy: "best-of-n", n: 2, model: "large" });
    const before = await served();
    const started = startExecution({ question: problems[0]!.question }, spec, { generations: 2 }, 1, costs);
    expect(started.ok).toBe(false);
    if (started.ok) return;
    expect(started.field).toBe("model");
    expect(started.error).toMatch(/no larger model is configured/);
    expect(await served()).toBe(before);
  });
});

describe("identical prompts in one step", () => {
  it("are asked for once with their n's together, so DVTS subtrees do not get identical samples", async () => {
    const before = await served();
    const reqs = [0, 1, 2, 3].map((i) => request(problems[4]!.question, { oneStep: true, n: 4, seed: 100 + i }));
    const out = await completions().generate(reqs);
    expect((await served()) - before).toBe(1);
    const texts = out.map((r) => r.completions.map((c) => c.text).join("|"));
    expect(new Set(texts).size).toBeGreaterThan(1);
    for (const r of out) expect(r.completions).toHaveLength(4);
    const total = out.reduce((t, r) => t + r.usage.promptTokens, 0);
    expect(total).toBeGreaterThan(0);
  });
});

describe("renderChatMessages builds messages from the parts", () => {
  it("keeps a step that happens to start with 'Solution:' in the assistant message", async () => {
    const { renderChatMessages, chatToPrompt, renderPrompt } = await import("../src/engine/prompts");
    const req = {
      question: problems[0]!.question,
      prefix: ["Let me restate the problem.", "Solution:\nStart with the first number."],
    };
    const messages = renderChatMessages(req);
    expect(messages.map((m) => m.role)).toEqual(["system", "user", "assistant"]);
    expect(messages[2]!.content).toBe("Let me restate the problem.\n\nSolution:\nStart with the first number.\n\n");
    expect(chatToPrompt(messages)).toBe(renderPrompt(req));
  });
});

describe("responses a provider must not get away with", () => {
  const answering = (status: number, body: unknown, headers: Record<string, string> = {}): typeof fetch =>
    (async () =>
      new Response(JSON.stringify(body), {
        status,
        headers: { "content-type": "application/json", ...headers },
      })) as typeof fetch;

  it("completions without completion_tokens in usage are a provider error (they would be billed as zero)", async () => {
    const gen = generatorAdapter("gen", config({ kind: "openai-completions", model: "sim-base" }), {
      ...ctx,
      fetch: answering(200, { choices: [{ index: 0, text: "x", finish_reason: "stop" }], usage: { prompt_tokens: 3 } }),
    });
    await expect(gen.generate([request(problems[0]!.question, { n: 1 })])).rejects.toThrow(
      /malformed completions response: usage\.completion_tokens/,
    );
  });

  it("a Retry-After longer than five minutes fails at once instead of holding the solve", async () => {
    const gen = generatorAdapter("gen", config({ kind: "openai-completions", model: "sim-base" }), {
      ...ctx,
      fetch: answering(429, { error: { message: "slow down" } }, { "retry-after": "600" }),
    });
    const started = Date.now();
    await expect(gen.generate([request(problems[0]!.question)])).rejects.toThrow(
      /HTTP 429: slow down \(the provider asks to retry after 600 s\)/,
    );
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
