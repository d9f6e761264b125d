/**
 * A chat completion request as a solve: the model and `reasoning_effort` choose the strategy preset, the
 * `ttc` extension overrides its parameters and gives the budget, and the problem is the last user message
 * in the conversation the other messages make (`conversation.ts`). Validation goes through the same schema
 * as `POST /v1/solves`, with field names translated back to the request's own.
 */
import { z } from "zod";
import { ApiError } from "../errors/apiError";
import { CreateSolveSchema } from "../api/schemas";
import type { SolveRequest } from "../api/startSolve";
import { conversationOf, type InputMessage } from "./conversation";
import { AUTO_MODEL, EFFORT_GENERATIONS, modelIds, presetFor, type Effort } from "./models";
import type { ChatCompletionRequest } from "./schemas";

function invalid(param: string, message: string): ApiError {
  return new ApiError(400, "invalid_request", `${param}: ${message}`, { param });
}

/** A path in the solve request, named as the chat request names it. */
function chatParam(path: readonly PropertyKey[]): string {
  const [head, ...rest] = path.map(String);
  if (head === "prompt") return "messages";
  if (head === "strategy" && rest.length === 0) return "model";
  if (head === "strategy" || head === "budget") return ["ttc", head, ...rest].join(".");
  return [head, ...rest].join(".");
}

/** What a chat or Responses request asks for, in the terms both share. */
export interface AskedSolve {
  model: string;
  effort: Effort;
  messages: readonly InputMessage[];
  /** Where the messages are in the request (`messages`, `input`), and the part types that carry text. */
  messagesParam?: string;
  textTypes?: readonly string[];
  instructions?: string[];
  temperature?: number | null | undefined;
  maxTokens?: number | undefined;
  maxTokensParam?: string;
  seed?: number | null | undefined;
  stop?: string | string[] | null | undefined;
  user?: string | null | undefined;
  metadata?: Record<string, string> | null | undefined;
  ttc?: { strategy?: Record<string, unknown> | undefined; budget?: Record<string, unknown> | undefined } | undefined;
}

export function toSolve(req: AskedSolve): SolveRequest {
  const preset = presetFor(req.model, req.effort);
  if (!preset)
    throw new ApiError(404, "not_found", `model "${req.model}" does not exist; available: ${modelIds().join(", ")}`, {
      param: "model",
    });
  const { question, context } = conversationOf(
    req.messages,
    req.messagesParam ?? "messages",
    req.textTypes,
    req.instructions,
  );
  const auto = req.model === AUTO_MODEL;
  if (auto && req.ttc?.strategy !== undefined) {
    throw invalid(
      "ttc.strategy",
      `${AUTO_MODEL} chooses the strategy and its parameters itself; name a ttc-<strategy> model to set them`,
    );
  }
  // ttc-auto chooses its sampling itself: a temperature is ignored there (and named as ignored).
  const strategy = auto
    ? preset
    : {
        ...preset,
        ...(req.temperature != null ? { temperature: req.temperature } : {}),
        ...req.ttc?.strategy,
        strategy: preset.strategy,
      };
  // For ttc-auto, reasoning_effort caps the generations the policy may choose (see EFFORT_GENERATIONS).
  const budget = {
    ...(auto ? { generations: EFFORT_GENERATIONS[req.effort] } : {}),
    ...(req.maxTokens !== undefined ? { tokens: req.maxTokens } : {}),
    ...req.ttc?.budget,
  };
  const parsed = CreateSolveSchema.safeParse({
    prompt: question,
    strategy,
    budget,
    // OpenAI takes any integer; the search's seed is 32 bits.
    ...(req.seed != null ? { seed: req.seed >>> 0 } : {}),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0] as z.core.$ZodIssue;
    let param = chatParam(issue.path);
    if (param === "messages") param = req.messagesParam ?? "messages";
    if (param === "budget.tokens" || param === "ttc.budget.tokens")
      param = req.ttc?.budget?.tokens !== undefined ? "ttc.budget.tokens" : (req.maxTokensParam ?? "max_tokens");
    throw invalid(param, issue.message);
  }
  const stop = req.stop == null ? [] : typeof req.stop === "string" ? [req.stop] : req.stop;
  return {
    ...parsed.data,
    ...(context ? { context } : {}),
    ...(stop.length > 0 ? { stop } : {}),
    ...(req.user != null ? { user: req.user } : {}),
    ...(req.metadata ? { metadata: req.metadata } : {}),
  };
}

export function chatToSolve(req: ChatCompletionRequest): SolveRequest {
  const maxTokensParam = req.max_completion_tokens != null ? "max_completion_tokens" : "max_tokens";
  return toSolve({
    model: req.model,
    effort: req.reasoning_effort,
    messages: req.messages as InputMessage[],
    temperature: req.temperature,
    maxTokens: req.max_completion_tokens ?? req.max_tokens ?? undefined,
    maxTokensParam,
    seed: req.seed,
    stop: req.stop,
    user: req.user,
    metadata: req.metadata,
    ttc: req.ttc as AskedSolve["ttc"],
  });
}

/**
 * A budget refusal from starting the solve (`budget.tokens: ...`), with `param` naming the request's own
 * field: `max_completion_tokens`/`max_tokens`/`max_output_tokens` for the token cap it set, `reasoning_effort`
 * for ttc-auto's generation cap, else the `ttc.budget` field.
 */
export function withBudgetParam(
  err: unknown,
  asked: { maxTokensParam?: string | undefined; ttcBudget?: Record<string, unknown> | undefined; auto: boolean },
): unknown {
  if (!(err instanceof ApiError) || err.status !== 400 || err.extra.param !== undefined) return err;
  const m = /^budget\.(\w+):/.exec(err.message);
  if (!m) return err;
  const field = m[1]!;
  const own = asked.ttcBudget?.[field] !== undefined;
  const param =
    !own && field === "tokens" && asked.maxTokensParam
      ? asked.maxTokensParam
      : !own && field === "generations" && asked.auto
        ? "reasoning_effort"
        : `ttc.budget.${field}`;
  return new ApiError(400, err.type, `${param}: ${err.message.slice(m[0].length).trim()}`, {
    ...err.extra,
    param,
  });
}
