/**
 * A streamed chat completion over real HTTP providers, read with the official `openai` SDK: progress
 * arrives while the search runs, pushed by the solve's Durable Object. Each provider call is delayed by 25 ms
 * (a spy on fetch, which reaches the Durable Object), as real providers take time; without it the simulated
 * world finishes a search before the first event is read.
 */
import { env } from "cloudflare:test";
import OpenAI from "openai";
import { openaiClient, solveViewOf } from "../workers/openaiClient";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { SolveView } from "../../src/api/schemas";
import { newTenantKey, type TestKey } from "../workers/auth";

const PROBLEM = "Start with 48. Add 17. Multiply by 6. Subtract 129. Divide by 3. What is the final number?";

let k: TestKey;
let client: OpenAI;

const session = (id: string) => env.SOLVE_SESSION.get(env.SOLVE_SESSION.idFromName(id));

const solveView = (id: string): Promise<SolveView> => solveViewOf(k.headers, id);

beforeAll(async () => {
  k = await newTenantKey();
  client = openaiClient(k.key);
  const real = globalThis.fetch;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    if (url.startsWith("http://sim.test/v1/") || url.startsWith("http://sim.test/pooling"))
      await new Promise((r) => setTimeout(r, 25));
    return real(input, init);
  });
});

afterAll(() => {
  vi.restoreAllMocks();
});

describe("streamed chat completion", () => {
  it("streams: the role first, reasoning progress while the solve runs, then the answer, the finish reason and the usage chunk", async () => {
    const stream = await client.chat.completions.create({
      model: "ttc-beam-search",
      messages: [{ role: "user", content: [{ type: "text", text: PROBLEM }] }],
      stream: true,
      stream_options: { include_usage: true },
      seed: 2,
      ...({ ttc: { strategy: { n: 16, width: 4 } } } as object),
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    let runningAtFirstProgress: string | undefined;
    for await (const ch of stream) {
      chunks.push(ch);
      const delta = ch.choices[0]?.delta as { reasoning_content?: string } | undefined;
      if (delta?.reasoning_content && runningAtFirstProgress === undefined) {
        runningAtFirstProgress = (await solveView(ch.id.replace(/^chatcmpl-/, ""))).status;
      }
    }
    expect(chunks[0]!.choices[0]!.delta.role).toBe("assistant");
    // Progress arrived while the search was still running, not all at the end.
    expect(runningAtFirstProgress).toBe("running");
    const kinds = chunks.map((ch) => {
      const d = ch.choices[0]?.delta as { content?: string; reasoning_content?: string } | undefined;
      if (!ch.choices.length) return "usage";
      if (ch.choices[0]!.finish_reason) return "finish";
      if (d?.reasoning_content) return "progress";
      return d?.content ? "content" : "role";
    });
    expect(kinds[0]).toBe("role");
    expect(kinds.filter((x) => x === "progress").length).toBeGreaterThan(3);
    expect(kinds.slice(-3)).toEqual(["content", "finish", "usage"]);
    expect(kinds.indexOf("content")).toBeGreaterThan(kinds.lastIndexOf("progress"));
    const usage = chunks.at(-1)!.usage!;
    const view = await solveView(chunks[0]!.id.replace(/^chatcmpl-/, ""));
    expect(view.status).toBe("done");
    expect(usage.total_tokens).toBe(view.spend.tokens);
    expect(usage.completion_tokens_details!.reasoning_tokens).toBe(usage.completion_tokens);
    expect(chunks.filter((c) => c.choices.length > 0).every((c) => c.usage === null)).toBe(true);
    const content = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
    expect(content).toContain(`\\boxed{${view.answer}}`);
  });

  it("a client that goes away mid-stream cancels its solve; while it streams, the solve pushes to it (one subscriber, no polling)", async () => {
    const stream = await client.chat.completions.create({
      model: "ttc-revisions",
      messages: [{ role: "user", content: PROBLEM }],
      stream: true,
      ...({ ttc: { strategy: { sequential: 64, parallel: 1 } } } as object),
    });
    let id = "";
    let subscribers = -1;
    for await (const ch of stream) {
      id = ch.id.replace(/^chatcmpl-/, "");
      if ((ch.choices[0]?.delta as { reasoning_content?: string } | undefined)?.reasoning_content) {
        subscribers = await session(id).subscriberCount();
        break;
      }
    }
    expect(subscribers).toBe(1);
    // Leaving the loop aborts the request.
    let view = await solveView(id);
    for (let i = 0; i < 100 && view.status !== "done"; i++) {
      await new Promise((r) => setTimeout(r, 50));
      view = await solveView(id);
    }
    expect(view.stopReason).toBe("cancelled");
    expect(view.steps).toBeLessThan(64);
    expect(await session(id).subscriberCount()).toBe(0);
  });
});
