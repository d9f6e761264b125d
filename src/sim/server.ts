/**
 * The simulated world over HTTP (sim-world.md §8): the same simulated models behind the real wire formats —
 * OpenAI-compatible `/v1/completions` and `/v1/chat/completions`, vLLM's `/pooling` for the PRM — with
 * latency and fault injection, so that real adapters, retries, timeouts and batching are exercised end to end.
 * A Hono app: it runs in Node (`npm run sim-server`) and in workerd alike.
 *
 * Flavors (`flavor`): the server impersonates one inference server's limits and error shapes, each rule from
 * that server's own source (see src/providers/servers.ts for the files):
 * - vllm: prompt arrays, `n`, per-sample seeding, `/pooling`; errors `{object: "error", message, type, code}`
 *   (vllm-project/vllm vllm/entrypoints/openai/protocol.py ErrorResponse).
 * - sglang: arrays and `n`, but one seed seeds every sample of a request, so with a seed its n samples are
 *   identical (sgl-project/sglang python/sglang/srt/entrypoints/openai/serving_completions.py passes the
 *   request's sampling params, seed included, to all n); no `/pooling` (FastAPI's 404 `{"detail": "Not Found"}`).
 * - tgi: `n` ignored (router/src/lib.rs CompletionRequest has no n): one choice per prompt; more than 4 prompts
 *   is a 422 `{error, error_type: "batch size exceeded"}` (router/src/server.rs, launcher default
 *   --max-client-batch-size 4); no `/pooling`.
 * - ollama: `prompt` must be a string (openai/openai.go CompletionRequest.Prompt string; middleware/openai.go
 *   answers a body that does not bind with 400 `{error: {message, type: "invalid_request_error"}}`); `n`
 *   ignored; no `/pooling` (Go's 404 "404 page not found").
 * - llamacpp: `n` other than 1 is refused with "Only one completion choice is allowed", a runtime_error the
 *   server answers as 500 `{error: {code, message, type: "server_error"}}` (tools/server/utils.hpp); a final
 *   assistant message is continued as a prefill; no `/pooling` (404 `{error: {code: 404, message: "File Not
 *   Found", type: "not_found_error"}}`).
 * `usage: false` leaves `usage` out of every response (a server or proxy that does not report it).
 *
 * Faults: per request with the `x-sim-fault` header, or queued with `POST /_sim/faults`
 * (`{"kind": "...", "count": N, "path": "/v1/completions"}`); kinds are 429, 500, timeout, truncated,
 * malformed and wrong-count. A request that repeats an `Idempotency-Key` gets the first answer again and is not
 * billed again (`GET /_sim/stats` counts billed tokens and replays).
 */
import { Hono, type Context } from "hono";
import { chatToPrompt, type ChatMessage } from "../engine/prompts";
import { JUDGE_SYSTEM, parseJudgeUser, parsePrmInput, PRM_STEP_TOKEN } from "../providers/formats";
import { countTokens, SimModels, type SimModelName } from "./models";
import type { World } from "./world";

export const FAULT_KINDS = ["429", "500", "timeout", "truncated", "malformed", "wrong-count"] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface SimServerOptions {
  /** Latency per call and per completion token; defaults to the world's. */
  latency?: { perCallMs: number; perTokenMs: number };
  /** How long a "timeout" fault stalls before answering. */
  stallMs?: number;
  /** Seconds sent in Retry-After with a 429. */
  retryAfterSeconds?: number;
  /** Honour Idempotency-Key (replay a repeated key's answer, billed once); default true. */
  replay?: boolean;
  /** Which inference server to impersonate; default vllm. */
  flavor?: SimFlavor;
  /** Report `usage` in responses; default true. */
  usage?: boolean;
}

export const SIM_FLAVORS = ["vllm", "sglang", "tgi", "ollama", "llamacpp"] as const;
export type SimFlavor = (typeof SIM_FLAVORS)[number];

/** A request refused the way the impersonated server refuses it: its status and its error body. */
function flavorError(c: Context, flavor: SimFlavor, status: 400 | 404 | 422 | 500, message: string) {
  switch (flavor) {
    case "tgi":
      return c.json({ error: message, error_type: status === 422 ? "batch size exceeded" : "validation" }, status);
    case "ollama":
      return c.json(
        { error: { message, type: status === 400 ? "invalid_request_error" : "api_error", param: null } },
        status,
      );
    case "llamacpp":
      return c.json(
        { error: { code: status, message, type: status === 400 ? "invalid_request_error" : "server_error" } },
        status,
      );
    default:
      return c.json(
        {
          object: "error",
          message,
          type: status === 400 ? "BadRequestError" : "InternalServerError",
          param: null,
          code: status,
        },
        status,
      );
  }
}

/** A route the impersonated server does not have, answered as that server answers it. */
function notFound(c: Context, flavor: SimFlavor) {
  switch (flavor) {
    case "sglang":
      return c.json({ detail: "Not Found" }, 404);
    case "ollama":
      return c.text("404 page not found", 404);
    case "llamacpp":
      return c.json({ error: { code: 404, message: "File Not Found", type: "not_found_error" } }, 404);
    default:
      return c.body(null, 404);
  }
}

const MODELS: Record<string, SimModelName | "prm"> = {
  "sim-base": "base",
  "sim-large": "large",
  "sim-reviser": "reviser",
  "sim-prm": "prm",
};

interface QueuedFault {
  kind: FaultKind;
  count: number;
  path?: string;
}

function openAiError(c: Context, status: 400 | 404 | 429 | 500, message: string, type: string) {
  return c.json({ error: { message, type, code: status } }, status);
}

function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
}

export function createSimServer(world: World, options: SimServerOptions = {}) {
  const models = new SimModels(world);
  const latency = options.latency ?? world.latency;
  const flavor: SimFlavor = options.flavor ?? "vllm";
  /** Drop `usage` from an answer when this server does not report it (it was billed all the same). */
  const reported = <T extends { usage?: unknown }>(body: T): T => {
    if (options.usage !== false) return body;
    const { usage: _dropped, ...rest } = body;
    return rest as T;
  };
  /** Apply the flavor's rules on `n` and prompt count; a refusal is returned as a response. */
  const refuse = (c: Context, body: Record<string, unknown>, prompts: number) => {
    if (flavor === "ollama" && typeof body.prompt !== "string" && body.messages === undefined)
      return flavorError(
        c,
        flavor,
        400,
        "json: cannot unmarshal array into Go struct field CompletionRequest.prompt of type string",
      );
    if (flavor === "llamacpp" && body.n !== undefined && body.n !== 1)
      return flavorError(c, flavor, 500, "Only one completion choice is allowed");
    if (flavor === "tgi" && prompts > 4)
      return flavorError(c, flavor, 422, "Number of prompts exceeds the maximum allowed batch size of 4");
    return undefined;
  };
  /** Samples per prompt the server really produces for a request's `n`. */
  const samplesFor = (n: number): number => (flavor === "tgi" || flavor === "ollama" ? 1 : n);
  const queue: QueuedFault[] = [];
  let served = 0;
  /** Milliseconds spent answering generation and scoring requests (for benchmarks: the providers' share of wall time). */
  let busyMs = 0;
  const app = new Hono();
  const timed = async (_c: Context, next: () => Promise<void>): Promise<void> => {
    const began = performance.now();
    await next();
    busyMs += performance.now() - began;
  };
  app.use("/v1/*", timed);
  app.use("/pooling", timed);

  /** The fault to apply to this request, if any (header first, then the queue). */
  const faultFor = (c: Context): FaultKind | undefined => {
    const header = c.req.header("x-sim-fault");
    if (header && (FAULT_KINDS as readonly string[]).includes(header)) return header as FaultKind;
    const i = queue.findIndex((f) => f.count > 0 && (f.path === undefined || f.path === c.req.path));
    if (i < 0) return undefined;
    const f = queue[i] as QueuedFault;
    f.count -= 1;
    if (f.count === 0) queue.splice(i, 1);
    return f.kind;
  };

  /** Answers by Idempotency-Key: a repeated key gets the first answer again and is not billed again. */
  const replays = new Map<string, Promise<string>>();
  let replayed = 0;
  /** Tokens billed: every answer computed (faulted bodies and answers the client gave up waiting for too), replays excluded. */
  let billedTokens = 0;

  /** Answer with `body` after the simulated latency, unless a fault says otherwise. */
  const respond = async (
    c: Context,
    body: Record<string, unknown> & { choices?: unknown[]; data?: unknown[] },
    tokens: number,
    billed: number,
  ) => {
    const key = c.req.header("idempotency-key");
    const prior = key === undefined || options.replay === false ? undefined : replays.get(key);
    if (prior) {
      replayed += 1;
      return c.body(await prior, 200, { "content-type": "application/json" });
    }
    served += 1;
    const fault = faultFor(c);
    if (fault === "429") {
      c.header("Retry-After", String(options.retryAfterSeconds ?? 0));
      return openAiError(c, 429, "rate limited (simulated)", "rate_limit_error");
    }
    if (fault === "500") return openAiError(c, 500, "internal error (simulated)", "server_error");
    const full = JSON.stringify(body);
    if (key !== undefined && options.replay !== false) {
      replays.set(
        key,
        sleep(latency.perCallMs + latency.perTokenMs * tokens).then(() => full),
      );
      if (replays.size > 100_000) replays.delete(replays.keys().next().value as string);
    }
    billedTokens += billed;
    if (fault === "timeout") await sleep(options.stallMs ?? 30_000);
    await sleep(latency.perCallMs + latency.perTokenMs * tokens);
    if (fault === "wrong-count") {
      if (body.choices) body.choices = body.choices.slice(0, Math.max(0, body.choices.length - 1));
      if (body.data) body.data = body.data.slice(0, Math.max(0, body.data.length - 1));
    }
    const text = JSON.stringify(body);
    if (fault === "truncated")
      return c.body(text.slice(0, Math.floor(text.length / 2)), 200, { "content-type": "application/json" });
    if (fault === "malformed") return c.body(`{"choices": [oops`, 200, { "content-type": "application/json" });
    return c.body(text, 200, { "content-type": "application/json" });
  };

  const readJson = async (c: Context): Promise<Record<string, unknown> | null> => {
    try {
      const body = (await c.req.json()) as unknown;
      return body && typeof body === "object" && !Array.isArray(body) ? (body as Record<string, unknown>) : null;
    } catch {
      return null;
    }
  };

  const sampling = (body: Record<string, unknown>) => {
    const n = typeof body.n === "number" && Number.isInteger(body.n) && body.n >= 1 ? body.n : 1;
    const stop = Array.isArray(body.stop) ? body.stop : typeof body.stop === "string" ? [body.stop] : [];
    return {
      n,
      temperature: typeof body.temperature === "number" ? body.temperature : 1,
      maxTokens: typeof body.max_tokens === "number" ? body.max_tokens : 16,
      oneStep: stop.includes("\n\n"),
      seed: typeof body.seed === "number" ? body.seed : 0,
    };
  };

  /** n samples of a prompt; SGLang seeds all n with the request's one seed, so with a seed they are one sample n times. */
  const sampleAll = (
    model: SimModelName,
    prompt: string,
    params: ReturnType<typeof sampling>,
    body: Record<string, unknown>,
  ) => {
    if (flavor !== "sglang" || params.n === 1 || typeof body.seed !== "number")
      return models.complete(model, prompt, params);
    const one = models.complete(model, prompt, { ...params, n: 1 });
    return {
      completions: Array.from({ length: params.n }, () => one.completions[0]!),
      usage: { promptTokens: one.usage.promptTokens, completionTokens: one.usage.completionTokens * params.n },
    };
  };

  app.get("/v1/models", (c) =>
    c.json({
      object: "list",
      data: Object.keys(MODELS).map((id) => ({ id, object: "model", owned_by: "ttc-edge-sim" })),
    }),
  );

  app.get("/_sim/stats", (c) => c.json({ served, replayed, billedTokens, busyMs, queuedFaults: queue }));

  app.post("/_sim/faults", async (c) => {
    const body = await readJson(c);
    const kind = body?.kind;
    if (typeof kind !== "string" || !(FAULT_KINDS as readonly string[]).includes(kind)) {
      return openAiError(c, 400, `kind must be one of ${FAULT_KINDS.join(", ")}`, "invalid_request_error");
    }
    const count = typeof body?.count === "number" && body.count > 0 ? Math.floor(body.count) : 1;
    queue.push({ kind: kind as FaultKind, count, ...(typeof body?.path === "string" ? { path: body.path } : {}) });
    return c.json({ queued: queue.length });
  });

  app.delete("/_sim/faults", (c) => {
    queue.length = 0;
    return c.json({ queued: 0 });
  });

  app.post("/v1/completions", async (c) => {
    const body = await readJson(c);
    if (!body) return openAiError(c, 400, "request body must be a JSON object", "invalid_request_error");
    const model = MODELS[String(body.model)];
    if (!model || model === "prm")
      return openAiError(
        c,
        404,
        `model "${String(body.model)}" does not exist or is not a generator`,
        "invalid_request_error",
      );
    const prompts = Array.isArray(body.prompt) ? body.prompt : [body.prompt];
    if (prompts.length === 0 || prompts.some((p) => typeof p !== "string"))
      return openAiError(c, 400, "prompt must be a string or an array of strings", "invalid_request_error");
    const refused = refuse(c, body, prompts.length);
    if (refused) return refused;
    const asked = sampling(body);
    const params = { ...asked, n: samplesFor(asked.n) };
    const choices: { index: number; text: string; finish_reason: string; logprobs: null }[] = [];
    let promptTokens = 0;
    let completionTokens = 0;
    (prompts as string[]).forEach((prompt, i) => {
      const out =
        model === "reviser" || model === "base" || model === "large" ? sampleAll(model, prompt, params, body) : null;
      if (!out) return;
      promptTokens += out.usage.promptTokens;
      completionTokens += out.usage.completionTokens;
      out.completions.forEach((comp, j) =>
        choices.push({ index: i * params.n + j, text: comp.text, finish_reason: comp.finishReason, logprobs: null }),
      );
    });
    return respond(
      c,
      reported({
        id: `cmpl-sim-${served}`,
        object: "text_completion",
        created: 0,
        model: body.model,
        choices,
        usage: {
          prompt_tokens: promptTokens,
          completion_tokens: completionTokens,
          total_tokens: promptTokens + completionTokens,
        },
      }),
      completionTokens,
      promptTokens + completionTokens,
    );
  });

  app.post("/v1/chat/completions", async (c) => {
    const body = await readJson(c);
    if (!body) return openAiError(c, 400, "request body must be a JSON object", "invalid_request_error");
    const model = MODELS[String(body.model)];
    if (!model || model === "prm")
      return openAiError(
        c,
        404,
        `model "${String(body.model)}" does not exist or is not a generator`,
        "invalid_request_error",
      );
    const messages = body.messages;
    if (
      !Array.isArray(messages) ||
      messages.length === 0 ||
      messages.some((m) => typeof m?.content !== "string" || typeof m?.role !== "string")
    ) {
      return openAiError(c, 400, "messages must be a non-empty array of {role, content}", "invalid_request_error");
    }
    const chat = messages as ChatMessage[];
    // An LLM-as-judge prompt: answer Yes/No with logprobs from the simulated PRM's view of the last step.
    if (chat[0]?.role === "system" && chat[0].content === JUDGE_SYSTEM) {
      const parsed = parseJudgeUser(chat.find((m) => m.role === "user")?.content ?? "");
      const p = parsed ? (models.score(parsed.question, parsed.steps).at(-1) ?? 0.5) : 0.5;
      const yes = Math.min(Math.max(p, 1e-6), 1 - 1e-6);
      const top = [
        { token: "Yes", logprob: Math.log(yes) },
        { token: "No", logprob: Math.log(1 - yes) },
      ].sort((a, b) => b.logprob - a.logprob);
      const promptTokens = countTokens(chat.map((m) => m.content).join("\n"));
      return respond(
        c,
        reported({
          id: `chat-sim-${served}`,
          object: "chat.completion",
          created: 0,
          model: body.model,
          choices: [
            {
              index: 0,
              message: { role: "assistant", content: top[0]!.token },
              finish_reason: "length",
              logprobs: { content: [{ token: top[0]!.token, logprob: top[0]!.logprob, top_logprobs: top }] },
            },
          ],
          usage: { prompt_tokens: promptTokens, completion_tokens: 1, total_tokens: promptTokens + 1 },
        }),
        1,
        promptTokens + 1,
      );
    }
    const refused = refuse(c, body, 1);
    if (refused) return refused;
    const last = chat[chat.length - 1];
    // llama.cpp continues a final assistant message as a prefill; vLLM only with continue_final_message.
    if (last?.role === "assistant" && body.continue_final_message !== true && flavor !== "llamacpp") {
      return openAiError(
        c,
        400,
        "a final assistant message is only continued with continue_final_message: true",
        "invalid_request_error",
      );
    }
    const asked = sampling(body);
    const params = { ...asked, n: samplesFor(asked.n) };
    const out = sampleAll(model as SimModelName, chatToPrompt(chat), params, body);
    const usage = {
      prompt_tokens: out.usage.promptTokens,
      completion_tokens: out.usage.completionTokens,
      total_tokens: out.usage.promptTokens + out.usage.completionTokens,
    };
    return respond(
      c,
      reported({
        id: `chat-sim-${served}`,
        object: "chat.completion",
        created: 0,
        model: body.model,
        choices: out.completions.map((comp, j) => ({
          index: j,
          message: { role: "assistant", content: comp.text },
          finish_reason: comp.finishReason,
          logprobs: null,
        })),
        usage,
      }),
      out.usage.completionTokens,
      usage.total_tokens,
    );
  });

  app.post("/pooling", async (c) => {
    // Only vLLM serves a PRM over the pooling API.
    if (flavor !== "vllm") return notFound(c, flavor);
    const body = await readJson(c);
    if (!body) return openAiError(c, 400, "request body must be a JSON object", "invalid_request_error");
    if (MODELS[String(body.model)] !== "prm")
      return openAiError(
        c,
        404,
        `model "${String(body.model)}" is not a pooling (reward) model`,
        "invalid_request_error",
      );
    const inputs = Array.isArray(body.input) ? body.input : [body.input];
    if (inputs.length === 0 || inputs.some((x) => typeof x !== "string"))
      return openAiError(c, 400, "input must be a string or an array of strings", "invalid_request_error");
    let promptTokens = 0;
    const data = (inputs as string[]).map((text, index) => {
      promptTokens += countTokens(text);
      const parsed = parsePrmInput(text);
      // Like the real model: one [p_neg, p_pos] per step token, whatever the text around it.
      const stepCount = text.split(PRM_STEP_TOKEN).length - 1;
      const scores = parsed ? models.score(parsed.question, parsed.steps) : new Array<number>(stepCount).fill(0.5);
      return { index, object: "pooling", data: scores.map((p) => [1 - p, p]) };
    });
    return respond(
      c,
      {
        id: `pool-sim-${served}`,
        object: "list",
        created: 0,
        model: body.model,
        data,
        usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
      },
      0,
      promptTokens,
    );
  });

  return app;
}
