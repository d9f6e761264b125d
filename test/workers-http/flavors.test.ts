/**
 * Every strategy end to end against every server flavor of the simulated world, inside workerd, through the
 * registry's adapters over HTTP: the generator on a flavoured server with `server` set to match, the PRM on a
 * vLLM-flavoured one. The tokens each solve reports are what the two servers billed (they all report usage).
 * Then the bad inputs: replies that contradict the declared capabilities, unknown kinds and servers, a PRM on a
 * server without one, missing secrets, chat without continuation, a server without usage.
 */
import { describe, expect, it } from "vitest";
import { startExecution } from "../../src/engine/executor";
import { runToEnd } from "../../src/engine/executeStep";
import { StrategySpecSchema, type StrategySpecInput } from "../../src/engine/strategies";
import { SIM_FLAVORS } from "../../src/sim/server";
import { parseProvidersConfig, refuseStrategy, wire } from "../../src/wiring/providers";

const PROBLEM = "Start with 23. Add 58. Multiply by 4. Subtract 17. What is the final number?";
const card = { parameters: 3e9, timeoutMs: 2000, retries: 1 };
const prm = { kind: "vllm-prm", baseUrl: "http://vllm.sim.test", model: "sim-prm", ...card, parameters: 7e9 };

async function billed(host: string): Promise<number> {
  return ((await (await fetch(`${host}/_sim/stats`)).json()) as { billedTokens: number }).billedTokens;
}

function wired(generator: Record<string, unknown>, verifier: Record<string, unknown> = prm, env = {}) {
  const w = wire(JSON.stringify({ generator, verifier }), env, { backoffBaseMs: 1, random: () => 0.5 });
  if (!w.ok) throw new Error(w.error);
  return w.wired;
}

async function solve(w: ReturnType<typeof wired>, spec: StrategySpecInput, seed = 5) {
  const started = startExecution(
    { question: PROBLEM },
    StrategySpecSchema.parse(spec),
    { generations: 64, tokens: 400_000 },
    seed,
    w.costs,
  );
  if (!started.ok) throw new Error(started.error);
  return runToEnd(started.execution, w.providers, w.costs);
}

const STRATEGIES: StrategySpecInput[] = [
  { strategy: "best-of-n", n: 4 },
  { strategy: "best-of-n", n: 4, selection: "majority" },
  { strategy: "beam-search", n: 4, width: 2, maxRounds: 6 },
  { strategy: "beam-search", n: 4, width: 2, lookahead: 1, maxRounds: 6 },
  { strategy: "dvts", n: 4, width: 2, maxRounds: 6 },
  { strategy: "revisions", sequential: 2, parallel: 2 },
];

describe.each(SIM_FLAVORS)("flavor %s", (flavor) => {
  const host = `http://${flavor}.sim.test`;
  it.each(STRATEGIES.map((s) => [JSON.stringify(s), s] as const))("%s finishes; tokens = billed", async (_, spec) => {
    const w = wired({ kind: "openai-completions", baseUrl: host, model: "sim-base", server: flavor, ...card });
    const before = (await billed(host)) + (flavor === "vllm" ? 0 : await billed("http://vllm.sim.test"));
    const end = await solve(w, spec);
    expect(end.stopReason, end.detail).toBe("complete");
    expect(end.outcome?.answer).not.toBeNull();
    const after = (await billed(host)) + (flavor === "vllm" ? 0 : await billed("http://vllm.sim.test"));
    expect(end.ledger.tokens).toBe(after - before);
  });
});

describe("replies that contradict the declared capabilities", () => {
  it("TGI declared as vLLM: fewer choices than asked is a provider error naming the fix, charged", async () => {
    const host = "http://tgi.sim.test";
    const w = wired({ kind: "openai-completions", baseUrl: host, model: "sim-base", ...card });
    const before = await billed(host);
    const end = await solve(w, { strategy: "best-of-n", n: 4 });
    expect(end.stopReason).toBe("failed");
    expect(end.detail).toMatch(
      /provider generator \(openai-completions on vllm\): expected 4 choices.*got 1.*set server/,
    );
    expect(end.ledger.tokens).toBe((await billed(host)) - before);
    expect(end.ledger.tokens).toBeGreaterThan(0);
  });

  it("Ollama declared as vLLM: its 400 for a prompt array ends the solve cleanly", async () => {
    const w = wired({ kind: "openai-completions", baseUrl: "http://ollama.sim.test", model: "sim-base", ...card });
    const end = await solve(w, { strategy: "beam-search", n: 4, width: 2 });
    expect(end.stopReason).toBe("failed");
    expect(end.detail).toMatch(/HTTP 400: json: cannot unmarshal array/);
  });

  it("SGLang declared as vLLM gives n identical samples; declared as sglang, each sample its own seed", async () => {
    const texts = async (server: string) => {
      const w = wired({
        kind: "openai-completions",
        baseUrl: "http://sglang.sim.test",
        model: "sim-base",
        server,
        ...card,
      });
      const [out] = await w.providers.generate("generator", [
        {
          role: "generator",
          question: PROBLEM,
          prefix: [],
          n: 6,
          temperature: 1,
          oneStep: false,
          maxTokens: 256,
          seed: 9,
        },
      ]);
      return new Set(out!.completions.map((c) => c.text)).size;
    };
    expect(await texts("vllm")).toBe(1);
    expect(await texts("sglang")).toBeGreaterThan(1);
  });

  it("a server without usage: the ledger charges the worst case, marked estimated, at least what was billed", async () => {
    const host = "http://nousage.sim.test";
    const w = wired({ kind: "openai-completions", baseUrl: host, model: "sim-base", ...card });
    const before = await billed(host);
    const end = await solve(w, { strategy: "best-of-n", n: 4 });
    expect(end.stopReason, end.detail).toBe("complete");
    const gen = end.ledger.generatorPromptTokens + end.ledger.generatorCompletionTokens;
    expect(gen).toBeGreaterThanOrEqual((await billed(host)) - before);
  });
});

describe("configuration refused at startup, naming the field", () => {
  const parse = (generator: unknown, verifier: unknown = prm) =>
    parseProvidersConfig(JSON.stringify({ generator, verifier }));
  it("unknown server and unknown kind name the allowed values", () => {
    const server = parse({ kind: "openai-completions", baseUrl: "http://x", model: "m", parameters: 1, server: "vlm" });
    expect(server.ok ? "" : server.error).toMatch(
      /PROVIDERS\.generator\.server: .*allowed: vllm, sglang, tgi, ollama, llamacpp, openai/,
    );
    const kind = parse({ kind: "anthropic", model: "m" });
    expect(kind.ok ? "" : kind.error).toMatch(
      /PROVIDERS\.generator\.kind: unknown kind "anthropic"; allowed: openai-completions, openai-chat, vllm-prm, llm-judge, workers-ai, sim/,
    );
  });
  it("a PRM on a server without a pooling endpoint", () => {
    const r = parse({ kind: "sim", model: "sim-base" }, { ...prm, server: "sglang" });
    expect(r.ok ? "" : r.error).toMatch(/PROVIDERS\.verifier: server: sglang has no PRM \(pooling\) endpoint/);
  });
  it("a header whose secret is not set; a kind in a role it cannot fill", () => {
    const g = {
      kind: "openai-chat",
      baseUrl: "http://x",
      model: "m",
      parameters: 1,
      headers: { "cf-aig-authorization": "AIG_TOKEN" },
    };
    const w = wire(JSON.stringify({ generator: g, verifier: prm }), {});
    expect(w.ok ? "" : w.error).toBe(
      "PROVIDERS.generator.headers.cf-aig-authorization: the secret AIG_TOKEN is not set",
    );
    const r = parse(prm, prm);
    expect(r.ok ? "" : r.error).toMatch(/PROVIDERS\.generator\.kind: a vllm-prm provider cannot be the generator/);
  });
});

describe("chat-only providers", () => {
  const chat = (server: string) => ({
    kind: "openai-chat",
    baseUrl: `http://${server}.sim.test`,
    model: "sim-base",
    server,
    ...card,
  });
  it("parallel strategies work on a chat server without continuation (fanned out)", async () => {
    const end = await solve(wired(chat("ollama")), { strategy: "best-of-n", n: 4 });
    expect(end.stopReason, end.detail).toBe("complete");
    expect(end.ledger.samples).toBe(4);
  });
  it("step-wise search is refused naming the strategy and the provider; continued where the server can", async () => {
    const why = refuseStrategy(
      wired(chat("ollama")),
      StrategySpecSchema.parse({ strategy: "beam-search", n: 4, width: 2 }),
    );
    expect(why).toMatch(/strategy beam-search needs .* provider generator \(openai-chat on ollama\) cannot/);
    const ok = wired(chat("llamacpp"));
    expect(refuseStrategy(ok, StrategySpecSchema.parse({ strategy: "dvts", n: 4, width: 2 }))).toBeUndefined();
    const end = await solve(ok, { strategy: "beam-search", n: 4, width: 2, maxRounds: 6 });
    expect(end.stopReason, end.detail).toBe("complete");
  });
});

describe("configurable paths and secret headers (an AI Gateway style prefix)", () => {
  it("sends to the configured path with the secret's value in the header", async () => {
    const seen: { url: string; header: string | null }[] = [];
    const g = {
      kind: "openai-completions",
      baseUrl: "https://gateway.example/v1/acct/gw/custom-vllm",
      model: "sim-base",
      ...card,
      paths: { completions: "/completions" },
      headers: { "cf-aig-authorization": "AIG_TOKEN" },
    };
    const w = wire(
      JSON.stringify({ generator: g, verifier: prm }),
      { AIG_TOKEN: "Bearer t0k" },
      {
        fetch: async (input, init) => {
          const req = new Request(input, init);
          seen.push({ url: req.url, header: req.headers.get("cf-aig-authorization") });
          return fetch(new Request("http://vllm.sim.test/v1/completions", req));
        },
      },
    );
    if (!w.ok) throw new Error(w.error);
    const [out] = await w.wired.providers.generate("generator", [
      {
        role: "generator",
        question: PROBLEM,
        prefix: [],
        n: 2,
        temperature: 1,
        oneStep: false,
        maxTokens: 128,
        seed: 1,
      },
    ]);
    expect(out!.completions).toHaveLength(2);
    expect(seen).toEqual([{ url: "https://gateway.example/v1/acct/gw/custom-vllm/completions", header: "Bearer t0k" }]);
  });
});
