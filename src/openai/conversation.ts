/**
 * Messages as a problem in a conversation: the last message is the question (it must be the user's), system
 * and developer messages are instructions, and the user and assistant messages before the question are the
 * conversation's earlier turns. How each provider kind renders them is in `engine/prompts.ts` (completion
 * transcript, chat messages) and `providers/formats.ts` (PRM, judge); docs/openai.md shows both.
 */
import { ApiError } from "../errors/apiError";
import type { Conversation } from "../engine/types";

export interface InputMessage {
  role: string;
  content?: string | { type: string; text?: string | undefined }[] | null | undefined;
  tool_calls?: unknown[] | null | undefined;
  function_call?: unknown;
}

function invalid(param: string, message: string): ApiError {
  return new ApiError(400, "invalid_request", `${param}: ${message}`, { param });
}

/** Text parts are joined; other kinds (images, audio, files) cannot be read by the generator. */
function textOf(m: InputMessage, at: string, textTypes: readonly string[]): string {
  if (typeof m.content === "string") return m.content;
  if (m.content == null) return "";
  return m.content
    .map((p, j) => {
      if (!textTypes.includes(p.type) || typeof p.text !== "string")
        throw invalid(`${at}.content[${j}].type`, `content parts of type "${p.type}" are not supported; send text`);
      return p.text;
    })
    .join("");
}

/**
 * `at` names the messages in errors (`messages` for chat, `input` for the Responses API); `textTypes` are the
 * part types that carry text there.
 */
export function conversationOf(
  messages: readonly InputMessage[],
  at = "messages",
  textTypes: readonly string[] = ["text"],
  extraInstructions: readonly string[] = [],
): { question: string; context?: Conversation } {
  const instructions = [...extraInstructions];
  const turns: Conversation["turns"] = [];
  messages.forEach((m, i) => {
    if (m.role === "tool" || m.role === "function")
      throw invalid(`${at}[${i}].role`, `${m.role} messages are not supported: ttc models do not call tools`);
    if ((m.tool_calls && m.tool_calls.length > 0) || m.function_call != null)
      throw invalid(`${at}[${i}].tool_calls`, "tool calls are not supported: ttc models do not call tools");
    const text = textOf(m, `${at}[${i}]`, textTypes);
    if (m.role === "system" || m.role === "developer") instructions.push(text);
    else turns.push({ role: m.role === "assistant" ? "assistant" : "user", content: text });
  });
  const last = turns.pop();
  const lastIndex = messages.length - 1;
  if (!last || last.role !== "user" || messages[lastIndex]?.role !== "user")
    throw invalid(`${at}[${lastIndex}].role`, "the last message must be the user's question");
  if (last.content.trim() === "") throw invalid(`${at}[${lastIndex}].content`, "must not be empty");
  const kept = instructions.filter((t) => t.trim() !== "");
  return {
    question: last.content,
    ...(kept.length > 0 || turns.length > 0 ? { context: { instructions: kept, turns } } : {}),
  };
}
