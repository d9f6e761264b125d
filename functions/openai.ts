/** The OpenAI-compatible routes: `POST /v1/chat/completions`, `GET /v1/models` and the Responses API. */
import { Hono, type Context } from "hono";
import { ApiError } from "../src/errors/apiError";
import { jsonBody } from "../src/api/http";
import type { AppEnv } from "../src/auth/env";
import { fingerprint, idempotencyKeyOf, startOnce } from "../src/api/idempotency";
import { prepareSolve, sessionOf, unwrap } from "../src/api/startSolve";
import { answerWhenDone } from "../src/api/syncAnswer";
import { streamResponse } from "../src/openai/responseStream";
import {
  echoOf,
  ResponseCreateSchema,
  responseId,
  responseObject,
  responseToSolve,
  solveIdOf,
} from "../src/openai/responses";
import { checkDestination } from "../src/webhooks/destination";
import { chatCompletion, usageOf } from "../src/openai/completion";
import { AUTO_MODEL, MODELS } from "../src/openai/models";
import { chatIgnoredParams, ignoredHeader, responsesIgnoredParams } from "../src/openai/params";
import { ChatCompletionRequestSchema } from "../src/openai/schemas";
import { streamCompletion } from "../src/openai/stream";
import { chatToSolve, withBudgetParam } from "../src/openai/toSolve";

export const openai = new Hono<AppEnv>();

/** Models have no creation date of their own; this is when the first was offered. */
const MODELS_CREATED = 1_796_083_200;

openai.get("/models", (c) =>
  c.json({
    object: "list",
    data: MODELS.map((m) => ({ id: m.id, object: "model", created: MODELS_CREATED, owned_by: "ttc-edge" })),
  }),
);

openai.get("/models/:id", (c) => {
  const m = MODELS.find((x) => x.id === c.req.param("id"));
  if (!m) throw new ApiError(404, "not_found", `model "${c.req.param("id")}" does not exist`, { param: "model" });
  return c.json({ id: m.id, object: "model", created: MODELS_CREATED, owned_by: "ttc-edge" });
});

openai.post("/chat/completions", async (c) => {
  const key = idempotencyKeyOf(c.req.header("idempotency-key"));
  const body = await jsonBody(c);
  const parsed = ChatCompletionRequestSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const param = issue.path.map(String).join(".") || "body";
    throw new ApiError(400, "invalid_request", `${param}: ${issue.message}`, { param });
  }
  const req = parsed.data;
  const ignored = chatIgnoredParams(body as Record<string, unknown>, req.model === AUTO_MODEL);
  for (const [name, value] of Object.entries(ignoredHeader(ignored))) c.header(name, value);
  const solveReq = chatToSolve(req);
  const principal = c.get("principal");
  const idem = key === undefined ? undefined : { key, scope: "chat", fingerprint: await fingerprint(body) };
  const asked = {
    maxTokensParam:
      req.max_completion_tokens != null ? "max_completion_tokens" : req.max_tokens != null ? "max_tokens" : undefined,
    ttcBudget: req.ttc?.budget,
    auto: req.model === AUTO_MODEL,
  };
  const started = await startOnce(c.env, principal, idem, () => prepareSolve(c.env, principal, solveReq)).catch(
    (err: unknown) => {
      throw withBudgetParam(err, asked);
    },
  );
  if (req.stream) {
    return streamCompletion(c, {
      solveId: started.id,
      created: Math.floor(started.createdAt / 1000),
      model: req.model,
      n: req.n,
      includeUsage: req.stream_options?.include_usage === true,
    });
  }
  return answerWhenDone(c, started.id, solveReq.budget.deadlineMs, async () => {
    const result = await sessionOf(c.env, started.id).choices(principal.tenantId, req.n);
    if (!result.ok) throw new Error(`solve ${started.id} vanished: ${result.error}`);
    const { view, choices, spend } = result.value;
    if (view.stopReason === "failed" && view.answer === null) {
      console.error(`chat completion ${view.id} (request ${c.get("requestId")}) failed: ${view.detail}`);
      throw new ApiError(
        502,
        "upstream_error",
        `the solve failed before it found an answer; solve ${view.id}, request id ${c.get("requestId")}`,
      );
    }
    return chatCompletion(req.model, view, choices, usageOf(spend));
  });
});

/** The Responses API: a response is a solve (`src/openai/responses.ts`). */
openai.post("/responses", async (c) => {
  const key = idempotencyKeyOf(c.req.header("idempotency-key"));
  const body = await jsonBody(c);
  const parsed = ResponseCreateSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const param = issue.path.map(String).join(".") || "body";
    throw new ApiError(400, "invalid_request", `${param}: ${issue.message}`, { param });
  }
  const req = parsed.data;
  const ignored = responsesIgnoredParams(body as Record<string, unknown>, req.model === AUTO_MODEL);
  for (const [name, value] of Object.entries(ignoredHeader(ignored))) c.header(name, value);
  const echo = echoOf(req);
  const solveReq = { ...responseToSolve(req), response: echo };
  const principal = c.get("principal");
  if (solveReq.webhook) await checkDestination(c.env, principal.tenantId, solveReq.webhook.url);
  const idem = key === undefined ? undefined : { key, scope: "responses", fingerprint: await fingerprint(body) };
  const asked = {
    maxTokensParam: req.max_output_tokens != null ? "max_output_tokens" : undefined,
    ttcBudget: req.ttc?.budget,
    auto: req.model === AUTO_MODEL,
  };
  const started = await startOnce(c.env, principal, idem, () => prepareSolve(c.env, principal, solveReq)).catch(
    (err: unknown) => {
      throw withBudgetParam(err, asked);
    },
  );
  const extra = { metadata: solveReq.metadata, user: solveReq.user };
  if (req.stream) return streamResponse(c, { view: started, echo, ...extra });
  // In the background: an async solve; the caller polls GET /v1/responses/{id} (or gets the webhook).
  if (req.background) return c.json(responseObject(started, echo, extra));
  return answerWhenDone(c, started.id, solveReq.budget.deadlineMs, () => responseOf(c, started.id));
});

async function responseOf(c: Context<AppEnv>, solveId: string) {
  const result = await sessionOf(c.env, solveId).choices(c.get("principal").tenantId, 1);
  if (!result.ok) throw new ApiError(404, "not_found", `no response with id "${responseId(solveId)}"`);
  const { view, choices, spend, request } = result.value;
  // A solve started through /v1/solves or chat is shown as a response too, with what it was.
  const echo = request.response ?? {
    model: view.strategy,
    effort: "medium",
    instructions: null,
    maxOutputTokens: null,
    background: false,
    temperature: null,
  };
  const extra = { metadata: request.metadata, user: request.user };
  return responseObject(view, echo, extra, view.status === "done" ? { choice: choices[0], spend } : undefined);
}

openai.get("/responses/:id", async (c) => c.json(await responseOf(c, solveIdOf(c.req.param("id")))));

openai.post("/responses/:id/cancel", async (c) => {
  const id = solveIdOf(c.req.param("id"));
  const stub = sessionOf(c.env, id);
  const asked = unwrap(await stub.cancel(c.get("principal").tenantId));
  // Cancellation aborts the provider calls in flight: the solve settles promptly.
  if (asked.status !== "done") unwrap(await stub.waitForDone(10_000));
  return c.json(await responseOf(c, id));
});
