/**
 * The OpenAI-compatible endpoint, driven by the official `openai` SDK as the client (its fetch is the
 * Worker's): models, a completion, a stream with real progress, n distinct answers, and errors.
 */
import OpenAI from "openai";
import { openaiClient, solveViewOf } from "./openaiClient";
import { beforeAll, describe, expect, it } from "vitest";
import type { SolveView } from "../../src/api/schemas";
import { EFFORT_GENERATIONS, strategiesWithoutPreset } from "../../src/openai/models";
import { newTenantKey, type TestKey } from "./auth";

const PROBLEM = "Start with 48. Add 17. Multiply by 6. Subtract 129. Divide by 3. What is the final number?";
const HARD =
  "Start with 7396. Multiply by 487. Subtract 9175. Multiply by 63. Take the remainder when divided by 97. Add 3881. Multiply by 29. What is the final number?";

let k: TestKey;
let client: OpenAI;

const sdk = openaiClient;

const solveView = (id: string): Promise<SolveView> => solveViewOf(k.headers, id);

type Ttc = { ttc: { solve_id: string; answer: string | null; spend: { tokens: number; generations: number } } };

beforeAll(async () => {
  k = await newTenantKey();
  client = sdk(k.key);
});

describe("OpenAI-compatible endpoint with the openai SDK", () => {
  it("lists ttc-auto and one model per strategy", async () => {
    expect(strategiesWithoutPreset()).toEqual([]);
    const ids = [];
    for await (const m of client.models.list()) ids.push(m.id);
    expect(ids).toEqual(["ttc-auto", "ttc-best-of-n", "ttc-beam-search", "ttc-dvts", "ttc-revisions"]);
    expect((await client.models.retrieve("ttc-dvts")).id).toBe("ttc-dvts");
  });

  it("answers a chat completion: the solution as content, usage from the solve's ledger, the effort's budget", async () => {
    const res = await client.chat.completions.create({
      model: "ttc-best-of-n",
      messages: [{ role: "user", content: PROBLEM }],
      reasoning_effort: "low",
      seed: 3,
    });
    const ttc = (res as unknown as Ttc).ttc;
    expect(res.object).toBe("chat.completion");
    expect(res.choices).toHaveLength(1);
    expect(res.choices[0]!.message.role).toBe("assistant");
    expect(res.choices[0]!.finish_reason).toBe("stop");
    expect(res.choices[0]!.message.content).toContain(`\\boxed{${ttc.answer}}`);
    const view = await solveView(ttc.solve_id);
    expect(view.status).toBe("done");
    expect(view.spend.generations).toBe(EFFORT_GENERATIONS.low);
    expect(res.usage!.total_tokens).toBe(view.spend.tokens);
    expect(res.usage!.prompt_tokens + res.usage!.completion_tokens).toBe(view.spend.tokens);
    expect(res.usage!.completion_tokens_details!.reasoning_tokens).toBe(res.usage!.completion_tokens);
    expect(res.usage!.prompt_tokens).toBeGreaterThan(0);
  });

  it("ttc-auto lets the policy choose within the effort's generation cap, and the solve says what it chose", async () => {
    const res = await client.chat.completions.create({
      model: "ttc-auto",
      messages: [{ role: "user", content: PROBLEM }],
      reasoning_effort: "low",
      seed: 4,
    });
    const ttc = (res as unknown as Ttc).ttc;
    const view = await solveView(ttc.solve_id);
    expect(view.status).toBe("done");
    expect(view.policy?.estimator).toBe("free");
    expect(view.policy?.state).toBe("decided");
    expect(view.strategy).toBe(view.policy?.state === "decided" ? view.policy.config : undefined);
    expect(view.spend.generations).toBeLessThanOrEqual(EFFORT_GENERATIONS.low);
    await expect(
      client.chat.completions.create({
        model: "ttc-auto",
        messages: [{ role: "user", content: PROBLEM }],
        ...({ ttc: { strategy: { n: 8 } } } as object),
      } as OpenAI.ChatCompletionCreateParamsNonStreaming),
    ).rejects.toMatchObject({ status: 400 });
  });

  it("takes strategy parameters and the budget in the ttc extension, and max_completion_tokens as the token cap", async () => {
    const res = await client.chat.completions.create({
      model: "ttc-beam-search",
      messages: [{ role: "user", content: PROBLEM }],
      max_completion_tokens: 2000,
      ...({ ttc: { strategy: { n: 8, width: 2 } } } as object),
    } as OpenAI.ChatCompletionCreateParamsNonStreaming);
    const view = await solveView((res as unknown as Ttc).ttc.solve_id);
    expect(view.strategy).toMatch(/^beam-search\(n=8,M=2/);
    expect(view.spend.tokens).toBeLessThanOrEqual(2000);
  });

  it("n returns that many distinct answers, the solve's own first", async () => {
    const res = await client.chat.completions.create({
      model: "ttc-best-of-n",
      messages: [{ role: "user", content: HARD }],
      n: 3,
      seed: 5,
    });
    const answers = res.choices.map((c) => /\\boxed\{([^}]*)\}/.exec(c.message.content ?? "")?.[1]);
    expect(res.choices.map((c) => c.index)).toEqual([0, 1, 2]);
    expect(new Set(answers).size).toBe(3);
    expect(answers[0]).toBe((res as unknown as Ttc).ttc.answer);
  });

  it("without include_usage the stream has no usage chunk and no usage fields", async () => {
    const stream = await client.chat.completions.create({
      model: "ttc-best-of-n",
      messages: [{ role: "user", content: PROBLEM }],
      stream: true,
      reasoning_effort: "low",
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const ch of stream) chunks.push(ch);
    expect(chunks.every((c) => c.choices.length > 0 && c.usage === undefined)).toBe(true);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe("stop");
  });

  it("an Idempotency-Key returns the same solve", async () => {
    const params = {
      model: "ttc-best-of-n",
      messages: [{ role: "user" as const, content: PROBLEM }],
      reasoning_effort: "low" as const,
    };
    const a = await client.chat.completions.create(params, { headers: { "Idempotency-Key": "chat-1" } });
    const b = await client.chat.completions.create(params, { headers: { "Idempotency-Key": "chat-1" } });
    expect(a.id).toBe(b.id);
    await expect(
      client.chat.completions.create(
        { ...params, reasoning_effort: "high" },
        { headers: { "Idempotency-Key": "chat-1" } },
      ),
    ).rejects.toMatchObject({ status: 409 });
  });

  describe("errors in OpenAI's shape, as the SDK reads them", () => {
    const cases: [string, () => Promise<unknown>, number, string | null, RegExp][] = [
      [
        "an unknown model",
        () => client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: PROBLEM }] }),
        404,
        "model",
        /model "gpt-4o" does not exist; available: ttc-auto, ttc-best-of-n/,
      ],
      [
        "a bad key",
        () =>
          sdk("ttc_nope").chat.completions.create({
            model: "ttc-best-of-n",
            messages: [{ role: "user", content: PROBLEM }],
          }),
        401,
        null,
        /unknown or revoked API key/,
      ],
      [
        "no messages",
        () => client.chat.completions.create({ model: "ttc-best-of-n", messages: [] }),
        400,
        "messages",
        /messages must not be empty/,
      ],
      [
        "a tool message",
        () =>
          client.chat.completions.create({
            model: "ttc-best-of-n",
            messages: [
              { role: "user", content: PROBLEM },
              { role: "tool", content: "42", tool_call_id: "call_1" },
            ],
          }),
        400,
        "messages[1].role",
        /tool messages are not supported/,
      ],
      [
        "a conversation that does not end with the user",
        () =>
          client.chat.completions.create({
            model: "ttc-best-of-n",
            messages: [
              { role: "user", content: PROBLEM },
              { role: "assistant", content: "It is 42." },
            ],
          }),
        400,
        "messages[1].role",
        /the last message must be the user's question/,
      ],
      [
        "an effort OpenAI does not define",
        () =>
          client.chat.completions.create({
            model: "ttc-best-of-n",
            messages: [{ role: "user", content: PROBLEM }],
            reasoning_effort: "extreme" as "high",
          }),
        400,
        "reasoning_effort",
        /reasoning_effort/,
      ],
      [
        "logprobs",
        () =>
          client.chat.completions.create({
            model: "ttc-best-of-n",
            messages: [{ role: "user", content: PROBLEM }],
            logprobs: true,
          }),
        400,
        "logprobs",
        /log probabilities are not available/,
      ],
      [
        "a JSON schema response format",
        () =>
          client.chat.completions.create({
            model: "ttc-best-of-n",
            messages: [{ role: "user", content: PROBLEM }],
            response_format: { type: "json_schema", json_schema: { name: "x", schema: {} } },
          }),
        400,
        "response_format",
        /json_schema is not supported/,
      ],
      [
        "an image part",
        () =>
          client.chat.completions.create({
            model: "ttc-best-of-n",
            messages: [
              { role: "user", content: [{ type: "image_url", image_url: { url: "https://x.example/a.png" } }] },
            ],
          }),
        400,
        "messages[0].content[0].type",
        /image_url/,
      ],
      [
        "tools",
        () =>
          client.chat.completions.create({
            model: "ttc-best-of-n",
            messages: [{ role: "user", content: PROBLEM }],
            tools: [{ type: "function", function: { name: "f" } }],
          }),
        400,
        "tools",
        /tools are not supported/,
      ],
      [
        "a bad strategy parameter",
        () =>
          client.chat.completions.create({
            model: "ttc-dvts",
            messages: [{ role: "user", content: PROBLEM }],
            ...({ ttc: { strategy: { n: 10, width: 4 } } } as object),
          } as OpenAI.ChatCompletionCreateParamsNonStreaming),
        400,
        "ttc.strategy.width",
        /ttc\.strategy\.width: DVTS needs/,
      ],
      [
        "a budget too small",
        () =>
          client.chat.completions.create({
            model: "ttc-best-of-n",
            messages: [{ role: "user", content: PROBLEM }],
            max_completion_tokens: 10,
          }),
        400,
        "max_completion_tokens",
        /max_completion_tokens: is too small/,
      ],
    ];
    for (const [name, send, status, param, message] of cases) {
      it(name, async () => {
        const err = (await send().then(
          () => undefined,
          (e: unknown) => e,
        )) as InstanceType<typeof OpenAI.APIError> | undefined;
        expect(err, "expected the SDK to throw").toBeInstanceOf(OpenAI.APIError);
        expect(err!.status).toBe(status);
        if (param !== null) expect(err!.param).toBe(param);
        expect(err!.message).toMatch(message);
        expect(typeof err!.type).toBe("string");
      });
    }
  });
});
