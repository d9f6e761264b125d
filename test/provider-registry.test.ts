/**
 * Server presets and fan-out arithmetic, and the PRM's over-length rule: what the ledger's worst case and the
 * subrequest budget assume must match what the adapter sends.
 */
import { describe, expect, it } from "vitest";
import type { GenerateRequest, ScoreRequest } from "../src/engine/types";
import { capabilitiesOf } from "../src/providers/servers";
import { generatorAdapter, parseProviderConfig, verifierAdapter } from "../src/wiring/providers";

const req = (n: number, i = 0): GenerateRequest => ({
  role: "generator",
  question: `Start with ${i}. Add 1. What is the final number?`,
  prefix: [],
  n,
  temperature: 1,
  oneStep: false,
  maxTokens: 32,
  seed: 3,
});
const gen = (server: string, extra: Record<string, unknown> = {}) =>
  generatorAdapter(
    "g",
    parseProviderConfig("generator", {
      kind: "openai-completions",
      server,
      baseUrl: "http://x.test",
      model: "m",
      parameters: 1,
      retries: 1,
      ...extra,
    }),
  );

describe("server presets and fan-out", () => {
  it("the worst-case prompt bound counts the prompt once per request", () => {
    const once = gen("vllm").promptTokenBound(req(4));
    expect(gen("ollama").promptTokenBound(req(4))).toBe(4 * once);
    expect(gen("sglang").promptTokenBound(req(4))).toBe(4 * once);
    expect(gen("tgi", { supportsN: true }).promptTokenBound(req(4))).toBe(once);
  });

  it("subrequests follow the requests sent: arrays and n on vLLM, fan-out elsewhere, retries counted", () => {
    const two = [req(4, 1), req(4, 2)];
    expect(gen("vllm").subrequests(two)).toBe(1 * 2);
    expect(gen("tgi").subrequests(two)).toBe(4 * 2); // 4 positions × one 2-prompt array each
    expect(gen("ollama").subrequests(two)).toBe(8 * 2);
    expect(gen("tgi", { maxBatch: 1 }).subrequests(two)).toBe(8 * 2);
  });

  it("overrides win over the preset", () => {
    const caps = capabilitiesOf({ server: "tgi", supportsN: true, maxBatch: 2, paths: { completions: "/p" } });
    expect(caps).toMatchObject({ supportsN: true, maxBatch: 2, promptArrays: true, pooling: false });
    expect(caps.paths).toEqual({ completions: "/p", chat: "/v1/chat/completions", pooling: "/pooling" });
  });
});

describe("PRM maxModelLen", () => {
  const long: ScoreRequest = { question: "q", steps: ["x".repeat(500)] };
  const short: ScoreRequest = { question: "q", steps: ["a", "b"] };
  const prm = (overLength: string, seen: unknown[]) =>
    verifierAdapter(
      "v",
      parseProviderConfig("verifier", {
        kind: "vllm-prm",
        baseUrl: "http://x.test",
        model: "prm",
        parameters: 1,
        maxModelLen: 400,
        overLength,
      }),
      {
        fetch: (async (_url: string, init: RequestInit) => {
          const body = JSON.parse(String(init.body)) as { input: string[] };
          seen.push(body.input.length);
          return Response.json({
            data: body.input.map((_, index) => ({
              index,
              data: [
                [0.4, 0.6],
                [0.2, 0.8],
              ],
            })),
            usage: { prompt_tokens: 10 },
          });
        }) as typeof fetch,
      },
    );

  it("score-zero: an over-long input is not sent, its steps score 0, and its bound is 0", async () => {
    const seen: unknown[] = [];
    const v = prm("score-zero", seen);
    const out = await v.score([long, short]);
    expect(seen).toEqual([1]);
    expect(out[0]!.scores).toEqual([0]);
    expect(out[1]!.scores).toEqual([0.6, 0.8]);
    expect(v.scoreTokenBound(long)).toBe(0);
  });

  it("fail: the call fails naming the limit, nothing sent", async () => {
    const seen: unknown[] = [];
    await expect(prm("fail", seen).score([short, long])).rejects.toThrow(
      /input 1 needs up to \d+ tokens, more than maxModelLen 400/,
    );
    expect(seen).toEqual([]);
  });
});
