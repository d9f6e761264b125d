/**
 * A chat completion request as a solve: the model and `reasoning_effort` choose the strategy preset, the
 * `ttc` extension overrides its parameters and gives the budget, and the problem is the user's message.
 * Validation goes through the same schema as `POST /v1/solves`, with field names translated back to the
 * request's own.
 */
import { z } from "zod";
import { ApiError } from "../errors/apiError";
import { CreateSolveSchema } from "../api/schemas";
import type { SolveRequest } from "../api/startSolve";
import { AUTO_MODEL, EFFORT_GENERATIONS, modelIds, presetFor } from "./models";
import type { ChatCompletionRequest } from "./schemas";

function invalid(param: string, message: string): ApiError {
  return new ApiError(400, "invalid_request", `${param}: ${message}`, { param });
}

/**
 * The problem text. The engine's problem is one question; a conversation would have to be flattened into
 * it, which loses its structure, so only a single user message is accepted.
 */
function problemOf(req: ChatCompletionRequest): string {
  const [only, ...rest] = req.messages;
  if (!only || rest.length > 0 || only.role !== "user") {
    throw invalid(
      "messages",
      "ttc models answer a single user message; system, developer, assistant and tool messages and earlier turns are not supported",
    );
  }
  const content =
    typeof only.content === "string"
      ? only.content
      : only.content === null
        ? ""
        : only.content.map((p) => p.text).join("");
  if (content.trim() === "") throw invalid("messages[0].content", "must not be empty");
  return content;
}

/** A path in the solve request, named as the chat request names it. */
function chatParam(path: readonly PropertyKey[]): string {
  const [head, ...rest] = path.map(String);
  if (head === "prompt") return "messages[0].content";
  if (head === "strategy" && rest.length === 0) return "model";
  if (head === "strategy" || head === "budget") return ["ttc", head, ...rest].join(".");
  return [head, ...rest].join(".");
}

export function chatToSolve(req: ChatCompletionRequest): SolveRequest {
  const preset = presetFor(req.model, req.reasoning_effort);
  if (!preset)
    throw new ApiError(404, "not_found", `model "${req.model}" does not exist; available: ${modelIds().join(", ")}`, {
      param: "model",
    });
  const prompt = problemOf(req);
  const auto = req.model === AUTO_MODEL;
  if (auto && (req.ttc?.strategy !== undefined || req.temperature != null)) {
    throw invalid(
      req.ttc?.strategy !== undefined ? "ttc.strategy" : "temperature",
      `${AUTO_MODEL} chooses the strategy and its parameters itself; name a ttc-<strategy> model to set them`,
    );
  }
  const strategy = auto
    ? preset
    : {
        ...preset,
        ...(req.temperature != null ? { temperature: req.temperature } : {}),
        ...req.ttc?.strategy,
        strategy: preset.strategy,
      };
  const maxTokens = req.max_completion_tokens ?? req.max_tokens ?? undefined;
  // For ttc-auto, reasoning_effort caps the generations the policy may choose (low 4, medium 16, high 64).
  const budget = {
    ...(auto ? { generations: EFFORT_GENERATIONS[req.reasoning_effort] } : {}),
    ...(maxTokens !== undefined ? { tokens: maxTokens } : {}),
    ...req.ttc?.budget,
  };
  const parsed = CreateSolveSchema.safeParse({
    prompt,
    strategy,
    budget,
    ...(req.seed != null ? { seed: req.seed } : {}),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0] as z.core.$ZodIssue;
    const param = chatParam(issue.path);
    throw invalid(param, issue.message);
  }
  return parsed.data;
}
