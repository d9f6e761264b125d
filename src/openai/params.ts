/**
 * The parameters of an OpenAI request that have no meaning here: ignored, and named in the
 * `x-ttc-ignored-params` response header, never refused, except values that cannot be served (a request
 * for log probabilities, JSON output, tools or audio), refused with a 400 naming the parameter.
 */
import { ApiError } from "../errors/apiError";

export const IGNORED_PARAMS_HEADER = "x-ttc-ignored-params";

/** What the chat endpoint reads (toSolve.ts); everything else in the body is ignored. */
const CHAT_HONOURED = new Set([
  "model",
  "messages",
  "reasoning_effort",
  "n",
  "stream",
  "stream_options",
  "seed",
  "temperature",
  "max_completion_tokens",
  "max_tokens",
  "stop",
  "user",
  "metadata",
  "ttc",
]);

function refuse(param: string, message: string): ApiError {
  return new ApiError(400, "invalid_request", `${param}: ${message}`, { param });
}

const has = (v: unknown): boolean => v !== undefined && v !== null;

/** Refusals shared by the chat and Responses endpoints: what could only be served by a model we do not run. */
function refuseUnservable(body: Record<string, unknown>): void {
  if (body.logprobs === true) throw refuse("logprobs", "log probabilities are not available from ttc models");
  if (typeof body.top_logprobs === "number" && body.top_logprobs > 0)
    throw refuse("top_logprobs", "log probabilities are not available from ttc models");
  if (Array.isArray(body.tools) && body.tools.length > 0)
    throw refuse("tools", "tools are not supported: ttc models do not call tools");
  if (Array.isArray(body.functions) && body.functions.length > 0)
    throw refuse("functions", "functions are not supported: ttc models do not call tools");
  const choice = body.tool_choice;
  if (has(choice) && choice !== "none" && choice !== "auto")
    throw refuse("tool_choice", "ttc models do not call tools; only none or auto can be served");
  if (has(body.audio)) throw refuse("audio", "audio output is not supported by ttc models");
  if (Array.isArray(body.modalities) && body.modalities.some((m) => m !== "text"))
    throw refuse("modalities", "ttc models answer in text only");
}

/** Names of ignored parameters, in the request's order; throws for unservable values. */
export function chatIgnoredParams(body: Record<string, unknown>, auto: boolean): string[] {
  refuseUnservable(body);
  const format = body.response_format as { type?: unknown } | null | undefined;
  if (has(format) && format?.type !== "text")
    throw refuse(
      "response_format",
      `response_format ${String(format?.type)} is not supported; ttc models answer in text`,
    );
  // ttc-auto chooses its sampling itself: a temperature is not used there.
  return Object.keys(body).filter((k) => !CHAT_HONOURED.has(k) || (auto && k === "temperature"));
}

/** The Responses API's honoured parameters (responses.ts); the rest are ignored the same way. */
const RESPONSES_HONOURED = new Set([
  "model",
  "input",
  "instructions",
  "reasoning",
  "max_output_tokens",
  "metadata",
  "stream",
  "background",
  "user",
  "safety_identifier",
  "temperature",
  "ttc",
]);

export function responsesIgnoredParams(body: Record<string, unknown>, auto: boolean): string[] {
  refuseUnservable(body);
  const format = (body.text as { format?: { type?: unknown } } | null | undefined)?.format;
  if (has(format) && format?.type !== "text")
    throw refuse("text.format", `text.format ${String(format?.type)} is not supported; ttc models answer in text`);
  if (has(body.previous_response_id) || has(body.conversation))
    throw refuse(
      has(body.conversation) ? "conversation" : "previous_response_id",
      "stored conversations are not supported; send the earlier turns in input",
    );
  return Object.keys(body).filter((k) => !RESPONSES_HONOURED.has(k) || (auto && k === "temperature"));
}

export function ignoredHeader(names: readonly string[]): Record<string, string> {
  return names.length > 0 ? { [IGNORED_PARAMS_HEADER]: names.join(", ") } : {};
}
