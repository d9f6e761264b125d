/**
 * A client that goes away stops the spending: a non-streamed chat completion (beam search over real HTTP
 * providers, each call delayed as real providers take time) aborted by the SDK while a provider call is in
 * flight has its solve cancelled, that call aborted (its possible cost kept in the ledger), and no provider
 * call is made after that.
 */
import { env, SELF } from "cloudflare:test";
import OpenAI from "openai";
import { openaiClient } from "../workers/openaiClient";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { newTenantKey, type TestKey } from "../workers/auth";

const PROBLEM =
  "Start with 7396. Multiply by 487. Subtract 9175. Multiply by 63. Take the remainder when divided by 97. Add 3881. Multiply by 29. What is the final number?";

let k: TestKey;
let client: OpenAI;
const started: number[] = [];
let aborted = 0;
// Long enough that the call started just before the abort is still in flight when the cancel reaches the
// solve, even on a loaded two-core machine; short enough that a solve left running starts another soon.
const CALL_MS = 600;

beforeAll(async () => {
  k = await newTenantKey();
  client = openaiClient(k.key);
  const real = globalThis.fetch;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    if (url.startsWith("http://sim.test/v1/") || url.startsWith("http://sim.test/pooling")) {
      started.push(Date.now());
      const signal = init?.signal ?? (input instanceof Request ? input.signal : undefined);
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, CALL_MS);
        signal?.addEventListener("abort", () => {
          clearTimeout(timer);
          aborted += 1;
          reject(new DOMException("aborted", "AbortError"));
        });
      });
    }
    return real(input, init);
  });
});

afterAll(() => {
  vi.restoreAllMocks();
});

async function solveRow(): Promise<{ id: string; stop_reason: string | null; generator_tokens: number } | null> {
  return env.DB.prepare("SELECT id, stop_reason, generator_tokens FROM solves WHERE tenant_id = ?")
    .bind(k.tenantId)
    .first();
}

describe("a client that goes away", () => {
  it("an aborted non-streamed request cancels its solve, aborts the calls in flight, and nothing more is called", async () => {
    const controller = new AbortController();
    const request = client.chat.completions.create(
      {
        model: "ttc-beam-search",
        messages: [{ role: "user", content: PROBLEM }],
        reasoning_effort: "high",
        seed: 3,
      },
      { signal: controller.signal },
    );
    const outcome = request.then(
      () => "answered",
      // Aborted before the answer's headers (the SDK's error) or while reading its keepalive body (fetch's).
      (e: unknown) =>
        e instanceof OpenAI.APIUserAbortError || (e as Error).name === "AbortError" ? "aborted" : String(e),
    );
    // Let the search get going (two calls made), then abort just after the next call starts, so that one is
    // in flight: the assertions below do not depend on where in a step the abort happened to land.
    const waitFor = async (ok: () => boolean) => {
      for (let i = 0; i < 400 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
      expect(ok()).toBe(true);
    };
    await waitFor(() => started.length >= 2);
    const before = started.length;
    await waitFor(() => started.length > before);
    controller.abort();
    const abortedAt = Date.now();
    expect(await outcome).toBe("aborted");
    let row = await solveRow();
    for (let i = 0; i < 100 && !row; i++) {
      await new Promise((r) => setTimeout(r, 50));
      row = await solveRow();
    }
    expect(row?.stop_reason).toBe("cancelled");
    // Nothing more was called: the call in flight at the abort ends within CALL_MS, so a solve left running
    // would start its next call inside this window (calls of the same step may start together, hence the slack).
    const calls = started.length;
    expect(Math.max(...started) - abortedAt).toBeLessThan(CALL_MS / 2);
    await new Promise((r) => setTimeout(r, 2 * CALL_MS));
    expect(started.length).toBe(calls);
    // The calls in flight were aborted, and what they may have cost is in the ledger.
    expect(aborted).toBeGreaterThan(0);
    const view = (await (await SELF.fetch(`https://ttc.test/v1/solves/${row!.id}`, { headers: k.headers })).json()) as {
      spend: { tokens: number };
      detail?: string;
    };
    expect(view.spend.tokens).toBeGreaterThan(0);
    expect(view.detail).toMatch(/aborted/);
  });

  it("a synchronous answer that takes longer than the keepalive arrives as newlines then the JSON, which the SDK reads", async () => {
    const raw = await SELF.fetch("https://ttc.test/v1/chat/completions", {
      method: "POST",
      headers: k.headers,
      body: JSON.stringify({
        model: "ttc-best-of-n",
        messages: [{ role: "user", content: PROBLEM }],
        reasoning_effort: "low",
      }),
    });
    expect(raw.status).toBe(200);
    expect(raw.headers.get("content-encoding")).toBe("identity");
    const text = await raw.text();
    expect(text).toMatch(/^\n+\{/);
    expect((JSON.parse(text) as { object: string }).object).toBe("chat.completion");
    const res = await client.responses.create({ model: "ttc-best-of-n", input: PROBLEM, reasoning: { effort: "low" } });
    expect(res.status).toBe("completed");
  });

  it("an event stream sends heartbeat comments while the search runs", async () => {
    const raw = await SELF.fetch("https://ttc.test/v1/responses", {
      method: "POST",
      headers: k.headers,
      body: JSON.stringify({ model: "ttc-beam-search", input: PROBLEM, stream: true, reasoning: { effort: "low" } }),
    });
    const text = await raw.text();
    expect(text).toContain(": heartbeat\n\n");
    expect(text).toContain("event: response.completed");
  });
});
