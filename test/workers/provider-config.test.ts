/**
 * The service with a PROVIDERS value that cannot work, or cannot run a strategy: /healthz answers 503 naming
 * the field (a deployment check fails before the first solve), and a step-wise strategy on a chat generator
 * that cannot continue a partial solution is refused with a 400 naming the strategy and the provider.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import app from "../../functions/index";
import { testKey } from "./auth";

async function call(path: string, providers: string, body?: unknown): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await app.fetch(
    new Request(`https://ttc.test${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: { authorization: `Bearer ${(await testKey()).key}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }),
    { ...env, PROVIDERS: providers },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

const prm = { kind: "vllm-prm", baseUrl: "http://prm.test", model: "prm", parameters: 7e9 };

describe("PROVIDERS refused or limited at startup", () => {
  it("/healthz is 503 naming the field and the allowed values", async () => {
    const bad = JSON.stringify({
      generator: { kind: "openai-completions", server: "vlm", baseUrl: "http://x.test", model: "m", parameters: 1 },
      verifier: prm,
    });
    const res = await call("/healthz", bad);
    expect(res.status).toBe(503);
    const body = (await res.json()) as { ok: boolean; error: string };
    expect(body.ok).toBe(false);
    expect(body.error).toMatch(
      /^PROVIDERS\.generator\.server: .*allowed: vllm, sglang, tgi, ollama, llamacpp, openai$/,
    );
    expect((await call("/healthz", "sim")).status).toBe(200);
  });

  it("beam search on a chat generator without continuation is a 400 naming the strategy and the provider", async () => {
    const chat = JSON.stringify({
      generator: { kind: "openai-chat", server: "ollama", baseUrl: "http://x.test", model: "m", parameters: 1 },
      verifier: prm,
    });
    const res = await call("/v1/solves", chat, {
      prompt: "Start with 2. Add 3. What is the final number?",
      strategy: { strategy: "beam-search", n: 4, width: 2 },
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { message: string } };
    expect(JSON.stringify(body)).toMatch(
      /strategy: strategy beam-search needs a generator that continues a partial solution, and provider generator \(openai-chat on ollama\) cannot/,
    );
  });
});
