/** The OpenAI-compatible routes: `POST /v1/chat/completions` and `GET /v1/models`. */
import { Hono } from "hono";
import { ApiError } from "../src/errors/apiError";
import { jsonBody } from "../src/api/http";
import type { AppEnv } from "../src/auth/env";
import { fingerprint, idempotencyKeyOf, startOnce } from "../src/api/idempotency";
import { prepareSolve, sessionOf, waitForSolve } from "../src/api/startSolve";
import { chatCompletion, usageOf } from "../src/openai/completion";
import { MODELS } from "../src/openai/models";
import { ChatCompletionRequestSchema } from "../src/openai/schemas";
import { streamCompletion } from "../src/openai/stream";
import { chatToSolve } from "../src/openai/toSolve";

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
  const solveReq = chatToSolve(req);
  const principal = c.get("principal");
  const idem = key === undefined ? undefined : { key, scope: "chat", fingerprint: await fingerprint(body) };
  const started = await startOnce(c.env, principal, idem, () => prepareSolve(c.env, principal, solveReq));
  if (req.stream) {
    return streamCompletion(c, {
      solveId: started.id,
      created: Math.floor(started.createdAt / 1000),
      model: req.model,
      n: req.n,
      includeUsage: req.stream_options?.include_usage === true,
    });
  }
  await waitForSolve(c.env, started.id, solveReq.budget.deadlineMs);
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
  return c.json(chatCompletion(req.model, view, choices, usageOf(spend)));
});
