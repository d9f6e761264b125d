/**
 * What a stock OpenAI app sends, driven by the official `openai` SDK: conversations (system, developer and
 * assistant messages with history), every chat parameter (the unused ones named in x-ttc-ignored-params),
 * every reasoning_effort, streaming n = 2 through the SDK's stream helper, the Responses API (plain,
 * streamed, in the background with retrieve, cancelled), one error shape on every route, CORS and OpenAI's
 * rate-limit headers.
 */
import { env, runDurableObjectAlarm, SELF } from "cloudflare:test";
import OpenAI from "openai";
import { openaiClient, solveViewOf } from "./openaiClient";
import { beforeAll, describe, expect, it } from "vitest";
import type { SolveView } from "../../src/api/schemas";
import { EFFORT_GENERATIONS } from "../../src/openai/models";
import { Webhook } from "standardwebhooks";
import { newTenantKey, type TestKey } from "./auth";
import { driveToEnd } from "./drive";

const PROBLEM = "Start with 48. Add 17. Multiply by 6. Subtract 129. Divide by 3. What is the final number?";
const ANSWER = "87";

let k: TestKey;
let client: OpenAI;

const sdk = openaiClient;

const solveView = (id: string): Promise<SolveView> => solveViewOf(k.headers, id);

type Ttc = { ttc: { solve_id: string; answer: string | null; spend: { tokens: number; generations: number } } };

beforeAll(async () => {
  k = await newTenantKey();
  client = sdk(k.key);
});

describe("conversations and parameters", () => {
  it("a system prompt with history and every parameter a stock app sends: answered, unused parameters named", async () => {
    const history: OpenAI.ChatCompletionMessageParam[] = [
      { role: "system", content: "You are a careful assistant." },
      { role: "user", content: "Start with 2. Add 3. What is the final number?" },
      // A boxed answer in an earlier assistant turn is history, not this answer.
      { role: "assistant", content: "2 + 3 = 5. The final answer is $\\boxed{999}$." },
      { role: "user", content: PROBLEM },
    ];
    const { data, response } = await client.chat.completions
      .create({
        model: "ttc-best-of-n",
        messages: history,
        reasoning_effort: "low",
        seed: 5,
        stop: null,
        temperature: 0.7,
        top_p: 1,
        frequency_penalty: 0,
        presence_penalty: 0,
        logit_bias: null,
        service_tier: "auto",
        ...({ parallel_tool_calls: null } as object),
        user: "user-42",
        metadata: { app: "compat-test" },
        ...({ some_future_param: true } as object),
      })
      .withResponse();
    const ttc = (data as unknown as Ttc).ttc;
    expect(data.choices[0]!.message.content).toContain(`\\boxed{${ANSWER}}`);
    expect(ttc.answer).toBe(ANSWER);
    expect(response.headers.get("x-ttc-ignored-params")).toBe(
      "top_p, frequency_penalty, presence_penalty, logit_bias, service_tier, parallel_tool_calls, some_future_param",
    );
    expect(response.headers.get("x-ratelimit-remaining-requests")).toMatch(/^\d+$/);
    expect(response.headers.get("x-ratelimit-limit-tokens")).toBe(String(1e9));
    // The conversation reached the generator: the same question alone reads fewer prompt tokens.
    const alone = await client.chat.completions.create({
      model: "ttc-best-of-n",
      messages: [{ role: "user", content: PROBLEM }],
      reasoning_effort: "low",
      seed: 5,
    });
    expect(data.usage!.prompt_tokens).toBeGreaterThan(alone.usage!.prompt_tokens);
  });

  it("reasoning_effort none, minimal and xhigh with a developer message map to budgets", async () => {
    for (const effort of ["none", "minimal", "xhigh"] as const) {
      const res = await client.chat.completions.create({
        model: "ttc-best-of-n",
        messages: [
          { role: "developer", content: "Answer in the boxed format." },
          { role: "user", content: PROBLEM },
        ],
        reasoning_effort: effort,
        seed: 1,
      });
      const view = await solveView((res as unknown as Ttc).ttc.solve_id);
      expect(view.spend.generations, effort).toBe(EFFORT_GENERATIONS[effort]);
      expect(res.choices[0]!.message.content).not.toBeNull();
    }
  });

  it("stop sequences are applied to the returned text", async () => {
    const res = await client.chat.completions.create({
      model: "ttc-best-of-n",
      messages: [{ role: "user", content: PROBLEM }],
      reasoning_effort: "minimal",
      stop: ["\\boxed"],
      seed: 2,
    });
    expect(res.choices[0]!.message.content).not.toContain("\\boxed");
    expect(typeof res.choices[0]!.message.content).toBe("string");
    expect((res as unknown as Ttc).ttc.answer).toBeNull();
  });

  it("streams n = 2 through the SDK's stream helper: every choice finishes", async () => {
    const final = await client.chat.completions
      .stream({
        model: "ttc-best-of-n",
        messages: [
          { role: "system", content: "Be exact." },
          { role: "user", content: PROBLEM },
        ],
        n: 2,
        reasoning_effort: "low",
        seed: 7,
        stream_options: { include_usage: true },
      })
      .finalChatCompletion();
    expect(final.choices).toHaveLength(2);
    for (const ch of final.choices) {
      expect(ch.finish_reason).toBe("stop");
      expect(ch.message.content!.length).toBeGreaterThan(0);
    }
    expect(final.usage!.total_tokens).toBeGreaterThan(0);
  });
});

describe("the Responses API", () => {
  it("create: string input with instructions, effort, max_output_tokens and metadata; usage with reasoning tokens", async () => {
    const res = await client.responses.create({
      model: "ttc-best-of-n",
      input: PROBLEM,
      instructions: "Show your steps.",
      reasoning: { effort: "low" },
      max_output_tokens: 200_000,
      metadata: { ticket: "T-1" },
    });
    expect(res.object).toBe("response");
    expect(res.id).toMatch(/^resp_/);
    expect(res.status).toBe("completed");
    expect(res.output_text).toContain(`\\boxed{${ANSWER}}`);
    expect(res.metadata).toEqual({ ticket: "T-1" });
    expect(res.instructions).toBe("Show your steps.");
    expect(res.usage!.output_tokens_details.reasoning_tokens).toBe(res.usage!.output_tokens);
    expect(res.usage!.total_tokens).toBe(res.usage!.input_tokens + res.usage!.output_tokens);
    const again = await client.responses.retrieve(res.id);
    expect(again.output_text).toBe(res.output_text);
    expect(again.metadata).toEqual({ ticket: "T-1" });
  });

  it("create: message input with history", async () => {
    const res = await client.responses.create({
      model: "ttc-best-of-n",
      input: [
        { role: "developer", content: "Be exact." },
        { role: "user", content: [{ type: "input_text", text: "Start with 1. Add 1. What is the final number?" }] },
        { role: "assistant", content: "The final answer is $\\boxed{2}$." },
        { role: "user", content: PROBLEM },
      ],
      reasoning: { effort: "minimal" },
    });
    expect(res.status).toBe("completed");
    expect(res.output_text.length).toBeGreaterThan(0);
  });

  it("stream: the typed events in order, and the final response", async () => {
    const stream = client.responses.stream({ model: "ttc-best-of-n", input: PROBLEM, reasoning: { effort: "low" } });
    const types: string[] = [];
    for await (const e of stream) types.push(e.type);
    const final = await stream.finalResponse();
    expect(types.slice(0, 2)).toEqual(["response.created", "response.in_progress"]);
    expect(types.slice(-7)).toEqual([
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    expect(final.status).toBe("completed");
    expect(final.output_text).toContain(`\\boxed{${ANSWER}}`);
  });

  it("background: answered at once in progress, then retrieved when done", async () => {
    const started = await client.responses.create({
      model: "ttc-beam-search",
      input: PROBLEM,
      background: true,
      reasoning: { effort: "low" },
    });
    expect(started.background).toBe(true);
    expect(["in_progress", "completed"]).toContain(started.status);
    let res = started;
    for (let i = 0; i < 200 && res.status === "in_progress"; i++) {
      await new Promise((r) => setTimeout(r, 50));
      res = await client.responses.retrieve(started.id);
    }
    expect(res.status).toBe("completed");
    expect(res.output_text).toContain("\\boxed{");
    expect(res.usage!.output_tokens_details.reasoning_tokens).toBeGreaterThan(0);
  });

  it("background with ttc.webhook: the tenant's signed webhook on completion", async () => {
    const { secret } = (await (
      await SELF.fetch("https://ttc.test/v1/webhooks/secret", { headers: k.headers })
    ).json()) as { secret: string };
    const started = await client.responses.create({
      model: "ttc-best-of-n",
      input: PROBLEM,
      background: true,
      reasoning: { effort: "low" },
      ...({ ttc: { webhook: { url: "https://hooks.example.com/hook/responses" } } } as object),
    });
    const solveId = started.id.replace(/^resp_/, "");
    await driveToEnd(solveId);
    const stub = env.SOLVE_SESSION.get(env.SOLVE_SESSION.idFromName(solveId));
    let got: { headers: Record<string, string>; body: string }[] = [];
    for (let i = 0; i < 50 && got.length === 0; i++) {
      await runDurableObjectAlarm(stub);
      got = (await (await fetch("https://hooks.example.com/_log/responses")).json()) as typeof got;
    }
    const payload = new Webhook(secret).verify(got[0]!.body, got[0]!.headers) as { type: string; data: SolveView };
    expect(payload.type).toBe("solve.completed");
    expect(payload.data.id).toBe(solveId);
    expect((await client.responses.retrieve(started.id)).status).toBe("completed");
  });

  it("cancel: a background response is cancelled", async () => {
    const started = await client.responses.create({
      model: "ttc-best-of-n",
      input: PROBLEM,
      background: true,
      reasoning: { effort: "max" },
      ...({ ttc: { strategy: { n: 4096 } } } as object),
    });
    const cancelled = await client.responses.cancel(started.id);
    expect(["cancelled", "completed"]).toContain(cancelled.status);
    expect((await client.responses.retrieve(started.id)).status).toBe(cancelled.status);
  });

  it("refuses what cannot be served, in OpenAI's error shape with param", async () => {
    const err = (await client.responses
      .create({ model: "ttc-best-of-n", input: PROBLEM, tools: [{ type: "web_search" }] })
      .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err.status).toBe(400);
    expect(err.param).toBe("tools");
    const unknown = (await client.responses.retrieve("resp_nope").catch((e: unknown) => e)) as InstanceType<
      typeof OpenAI.APIError
    >;
    expect(unknown.status).toBe(404);
  });
});

describe("one error shape, CORS and rate-limit headers", () => {
  const shape = (body: unknown) =>
    expect(Object.keys((body as { error: object }).error).sort()).toEqual(["code", "message", "param", "type"]);

  it("every route answers errors as {error: {message, type, param, code}}", async () => {
    const cases: [string, RequestInit, number][] = [
      ["/v1/chat/completions", { method: "POST", body: JSON.stringify({ model: "ttc-best-of-n" }) }, 400],
      ["/v1/solves", { method: "POST", body: JSON.stringify({ prompt: 5 }) }, 400],
      ["/v1/responses", { method: "POST", body: JSON.stringify({ model: "ttc-best-of-n", input: 3 }) }, 400],
      ["/admin/keys", { method: "GET" }, 401],
      ["/v1/nothing-here", { method: "GET" }, 404],
      ["/v1/chat/completions", { method: "GET" }, 405],
    ];
    for (const [path, init, status] of cases) {
      const res = await SELF.fetch(`https://ttc.test${path}`, { ...init, headers: k.headers });
      expect(res.status, path).toBe(status);
      shape(await res.json());
    }
    const bad = await SELF.fetch("https://ttc.test/v1/responses", {
      method: "POST",
      headers: k.headers,
      body: JSON.stringify({ model: "ttc-best-of-n", input: 3 }),
    });
    expect(((await bad.json()) as { error: { param: string } }).error.param).toBe("input");
    // The native route names the field too.
    const badSolve = await SELF.fetch("https://ttc.test/v1/solves", {
      method: "POST",
      headers: k.headers,
      body: JSON.stringify({ prompt: "x", budget: { tokens: -1 } }),
    });
    expect(badSolve.status).toBe(400);
    expect(((await badSolve.json()) as { error: { param: string } }).error.param).toBe("budget.tokens");
  });

  it("a preflight is answered without a key for a listed origin only; responses carry rate-limit headers", async () => {
    const preflight = (origin: string) =>
      SELF.fetch("https://ttc.test/v1/chat/completions", {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization, content-type",
        },
      });
    const ok = await preflight("https://app.example");
    expect(ok.status).toBe(204);
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(ok.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("authorization");
    const no = await preflight("https://evil.example");
    expect(no.headers.get("access-control-allow-origin")).toBeNull();
    const res = await SELF.fetch("https://ttc.test/v1/models", {
      headers: { ...k.headers, origin: "https://app.example" },
    });
    expect(res.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(res.headers.get("access-control-expose-headers")).toContain("x-ratelimit-remaining-requests");
    for (const name of ["requests", "tokens"]) {
      expect(res.headers.get(`x-ratelimit-limit-${name}`)).toMatch(/^\d+$/);
      expect(res.headers.get(`x-ratelimit-remaining-${name}`)).toMatch(/^\d+$/);
      expect(res.headers.get(`x-ratelimit-reset-${name}`)).toMatch(/^(\d+h)?(\d+m)?[\d.]+m?s$/);
    }
  });
});
