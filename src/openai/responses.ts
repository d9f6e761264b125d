/**
 * OpenAI's Responses API over solves: `POST /v1/responses` starts one (synchronous, streamed, or in the
 * background as an async solve), `GET /v1/responses/{id}` reads it, `POST /v1/responses/{id}/cancel` stops it.
 * A response's id is its solve's id with `resp_` in front. The shapes follow openai-node's
 * `src/resources/responses/responses.ts` (`Response`, `ResponseCreateParamsBase`, `ResponseStreamEvent`).
 */
import { z } from "zod";
import { ApiError } from "../errors/apiError";
import type { SolveView } from "../api/schemas";
import type { SolveRequest } from "../api/startSolve";
import type { Choice, SpendDetail } from "../solve/choices";
import type { ResponseEcho } from "../solve/input";
import { ttcResult } from "./completion";
import type { InputMessage } from "./conversation";
import { EFFORTS } from "./models";
import { MetadataSchema, TtcExtensionSchema, TtcResultSchema } from "./schemas";
import { toSolve } from "./toSolve";

export const RESPONSE_PREFIX = "resp_";

const InputPart = z.looseObject({ type: z.string(), text: z.string().optional() });

/** A message item: `EasyInputMessage` or `ResponseInputItem.Message` (other item kinds are refused by name). */
const InputItem = z.looseObject({
  type: z.string().optional(),
  role: z.string().optional(),
  content: z.union([z.string(), z.array(InputPart)]).optional(),
});

export const ResponseCreateSchema = z.looseObject({
  model: z.string(),
  input: z.union([z.string().min(1, "input must not be empty"), z.array(InputItem).min(1, "input must not be empty")]),
  instructions: z.string().nullable().optional(),
  reasoning: z
    .looseObject({ effort: z.enum(EFFORTS).nullable().optional() })
    .nullable()
    .optional(),
  max_output_tokens: z.number().int().min(1).nullable().optional(),
  metadata: MetadataSchema.nullable().optional(),
  stream: z.boolean().nullable().optional(),
  background: z.boolean().nullable().optional(),
  user: z.string().nullable().optional(),
  safety_identifier: z.string().nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  /** The `ttc` extension as on chat completions, and a webhook for a background response (signed with the tenant's secret). */
  ttc: TtcExtensionSchema.extend({ webhook: z.strictObject({ url: z.string().url() }).optional() })
    .strict()
    .optional(),
});

export type ResponseCreate = z.output<typeof ResponseCreateSchema>;

/** What a response echoes of its request (kept with the solve). */
export type { ResponseEcho };

const TEXT_TYPES = ["input_text", "output_text", "text"] as const;

function messagesOf(req: ResponseCreate): InputMessage[] {
  if (typeof req.input === "string") return [{ role: "user", content: req.input }];
  return req.input.map((item, i): InputMessage => {
    if ((item.type !== undefined && item.type !== "message") || item.role === undefined)
      throw new ApiError(
        400,
        "invalid_request",
        `input[${i}].type: input items of type "${item.type ?? "(none)"}" are not supported; send messages`,
        { param: `input[${i}].type` },
      );
    return { role: item.role, content: item.content as InputMessage["content"] };
  });
}

export function responseToSolve(req: ResponseCreate): SolveRequest {
  const solve = toSolve({
    model: req.model,
    effort: req.reasoning?.effort ?? "medium",
    messages: messagesOf(req),
    messagesParam: "input",
    textTypes: TEXT_TYPES,
    ...(req.instructions ? { instructions: [req.instructions] } : {}),
    temperature: req.temperature,
    maxTokens: req.max_output_tokens ?? undefined,
    maxTokensParam: "max_output_tokens",
    user: req.user ?? req.safety_identifier,
    metadata: req.metadata,
    ttc: req.ttc,
  });
  return { ...solve, ...(req.background && req.ttc?.webhook ? { webhook: req.ttc.webhook } : {}) };
}

export function echoOf(req: ResponseCreate): ResponseEcho {
  return {
    model: req.model,
    effort: req.reasoning?.effort ?? "medium",
    instructions: req.instructions ?? null,
    maxOutputTokens: req.max_output_tokens ?? null,
    background: req.background === true,
    temperature: req.temperature ?? null,
  };
}

export function responseId(solveId: string): string {
  return RESPONSE_PREFIX + solveId;
}

/** The solve id in a response id; anything else is a 404 like an unknown response. */
export function solveIdOf(id: string): string {
  if (!id.startsWith(RESPONSE_PREFIX)) throw new ApiError(404, "not_found", `no response with id "${id}"`);
  return id.slice(RESPONSE_PREFIX.length);
}

type Status = "in_progress" | "completed" | "incomplete" | "cancelled" | "failed";

/** A cap or the deadline stopped the search: OpenAI's `incomplete` (as chat's finish_reason `length`). */
function statusOf(view: SolveView): Status {
  if (view.status === "running") return "in_progress";
  if (view.stopReason === "cancelled") return "cancelled";
  if (view.stopReason === "failed" && view.answer === null) return "failed";
  if (view.stopReason === "budget" || view.stopReason === "deadline") return "incomplete";
  return "completed";
}

export function usageOfResponse(spend: SpendDetail) {
  const output = spend.tokens - spend.generatorPromptTokens;
  return {
    input_tokens: spend.generatorPromptTokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: output,
    // The search is all reasoning: the returned text is one of its samples, billed once.
    output_tokens_details: { reasoning_tokens: output },
    total_tokens: spend.tokens,
  };
}

export function outputMessage(solveId: string, text: string, status: "in_progress" | "completed") {
  return {
    type: "message" as const,
    id: `msg_${solveId}`,
    status,
    role: "assistant" as const,
    content:
      status === "completed"
        ? [{ type: "output_text" as const, text, annotations: [] as unknown[], logprobs: [] as unknown[] }]
        : [],
  };
}

/** The Response object for a solve: in progress (no output yet), or finished with its best answer as text. */
export function responseObject(
  view: SolveView,
  echo: ResponseEcho,
  extra: { metadata?: Record<string, string> | undefined; user?: string | undefined },
  result?: { choice: Choice | undefined; spend: SpendDetail },
) {
  const status = statusOf(view);
  const finished = status !== "in_progress" && result !== undefined;
  const text = result?.choice?.content ?? "";
  return {
    id: responseId(view.id),
    object: "response" as const,
    created_at: Math.floor(view.createdAt / 1000),
    status,
    background: echo.background,
    error:
      status === "failed"
        ? { code: "server_error", message: `the solve failed before it found an answer: ${view.detail ?? ""}`.trim() }
        : null,
    incomplete_details: status === "incomplete" ? { reason: "max_output_tokens" as const } : null,
    instructions: echo.instructions,
    max_output_tokens: echo.maxOutputTokens,
    metadata: extra.metadata ?? {},
    model: echo.model,
    output: finished && status !== "failed" ? [outputMessage(view.id, text, "completed")] : [],
    output_text: finished && status !== "failed" ? text : "",
    parallel_tool_calls: false,
    previous_response_id: null,
    reasoning: { effort: echo.effort, summary: null },
    store: true,
    temperature: echo.temperature,
    text: { format: { type: "text" as const } },
    tool_choice: "none" as const,
    tools: [] as unknown[],
    top_p: null,
    truncation: "disabled" as const,
    usage: finished ? usageOfResponse(result.spend) : null,
    user: extra.user ?? null,
    ttc: ttcResult(view),
  };
}

export type ResponseObject = ReturnType<typeof responseObject>;

const ResponseUsageSchema = z.object({
  input_tokens: z.number().int(),
  input_tokens_details: z.object({ cached_tokens: z.number().int() }),
  output_tokens: z.number().int(),
  output_tokens_details: z.object({ reasoning_tokens: z.number().int() }),
  total_tokens: z.number().int(),
});

const OutputMessageSchema = z.object({
  type: z.literal("message"),
  id: z.string(),
  status: z.enum(["in_progress", "completed"]),
  role: z.literal("assistant"),
  content: z.array(
    z.object({
      type: z.literal("output_text"),
      text: z.string(),
      annotations: z.array(z.unknown()),
      logprobs: z.array(z.unknown()),
    }),
  ),
});

/** The Response object as answered (for the OpenAPI document and the test that checks answers against it). */
export const ResponseObjectSchema = z.object({
  id: z.string(),
  object: z.literal("response"),
  created_at: z.number().int(),
  status: z.enum(["in_progress", "completed", "incomplete", "cancelled", "failed"]),
  background: z.boolean(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  incomplete_details: z.object({ reason: z.literal("max_output_tokens") }).nullable(),
  instructions: z.string().nullable(),
  max_output_tokens: z.number().int().nullable(),
  metadata: z.record(z.string(), z.string()),
  model: z.string(),
  output: z.array(OutputMessageSchema),
  output_text: z.string(),
  parallel_tool_calls: z.literal(false),
  previous_response_id: z.null(),
  reasoning: z.object({ effort: z.string(), summary: z.null() }),
  store: z.literal(true),
  temperature: z.number().nullable(),
  text: z.object({ format: z.object({ type: z.literal("text") }) }),
  tool_choice: z.literal("none"),
  tools: z.array(z.unknown()),
  top_p: z.null(),
  truncation: z.literal("disabled"),
  usage: ResponseUsageSchema.nullable(),
  user: z.string().nullable(),
  ttc: TtcResultSchema,
});

/** One streamed event: `type` and `sequence_number`, with the fields its type carries. */
export const ResponseStreamEventSchema = z.looseObject({
  type: z.enum([
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    "response.content_part.added",
    "response.output_text.delta",
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
    "response.completed",
    "response.incomplete",
    "response.failed",
    "error",
  ]),
  sequence_number: z.number().int(),
});
