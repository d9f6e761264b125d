/**
 * How a semantic generation request becomes model input text. One template for every text-completion
 * provider (real or simulated): the simulated models read exactly this text, as a real model would.
 *
 * A question asked in a conversation (docs/openai.md, "Conversations") carries its context: system and
 * developer instructions follow the solve instruction under `Instructions:`, earlier turns follow as a
 * transcript under `Conversation so far:` (`User: ...`, `Assistant: ...`), and the question comes last,
 * under `Problem: `. Chat providers get the same parts as messages: the instructions in the system message,
 * the earlier turns as user and assistant messages, then the problem.
 */
import { joinSteps, STEP_SEPARATOR } from "./solutionSteps";
import type { Conversation, GenerateRequest } from "./types";

export const SOLVE_INSTRUCTION =
  "Solve the following math problem step by step. Write one step per paragraph, separate steps with a " +
  "blank line, and put the final answer in \\boxed{}.";

export const REVISE_INSTRUCTION =
  "Below are earlier attempts at this problem. Find any mistakes in the most recent attempt and write a " +
  "corrected, complete solution step by step, one step per paragraph, with the final answer in \\boxed{}.";

export const PROBLEM_HEADER = "Problem: ";
export const INSTRUCTIONS_HEADER = "Instructions:\n";
export const TRANSCRIPT_HEADER = "Conversation so far:\n";
export const SOLUTION_HEADER = "Solution:\n";
export const ATTEMPT_OPEN = (i: number): string => `<attempt ${i}>\n`;
export const ATTEMPT_CLOSE = (i: number): string => `\n</attempt ${i}>`;

/** At most this many earlier attempts are shown to a revision model (method.md §5). */
export const REVISION_CONTEXT = 4;

type Rendered = Pick<GenerateRequest, "question" | "prefix" | "attempts" | "context">;

/** System and developer instructions, after the solve instruction; empty without any. */
export function renderInstructions(context: Conversation | undefined): string {
  const given = (context?.instructions ?? []).map((t) => t.trim()).filter((t) => t !== "");
  return given.length > 0 ? STEP_SEPARATOR + INSTRUCTIONS_HEADER + given.join(STEP_SEPARATOR) : "";
}

/** Earlier turns as a transcript (the completion format, and what a chat template joins them into). */
export function renderTranscript(turns: readonly { role: string; content: string }[]): string {
  if (turns.length === 0) return "";
  const lines = turns.map((t) => `${t.role === "assistant" ? "Assistant" : "User"}: ${t.content.trim()}`);
  return STEP_SEPARATOR + TRANSCRIPT_HEADER + lines.join(STEP_SEPARATOR);
}

/** The full text-completion prompt for a request; the model continues right after it. */
export function renderPrompt(req: Rendered): string {
  const parts: string[] = [];
  const attempts = req.attempts ?? [];
  parts.push(attempts.length > 0 ? REVISE_INSTRUCTION : SOLVE_INSTRUCTION);
  parts.push(renderInstructions(req.context), renderTranscript(req.context?.turns ?? []));
  parts.push(STEP_SEPARATOR, PROBLEM_HEADER, req.question.trim());
  const shown = attempts.slice(-REVISION_CONTEXT);
  shown.forEach((a, i) => parts.push(STEP_SEPARATOR, ATTEMPT_OPEN(i + 1), a.trim(), ATTEMPT_CLOSE(i + 1)));
  parts.push(STEP_SEPARATOR, SOLUTION_HEADER);
  if (req.prefix.length > 0) parts.push(joinSteps(req.prefix), STEP_SEPARATOR);
  return parts.join("");
}

/** UTF-8 byte length: an upper bound on the token count of any byte-level BPE tokenizer. */
export function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

/**
 * The same request as chat messages: the instruction (and the conversation's instructions) as system, the
 * conversation's earlier turns as they were, the problem (and earlier attempts) as user, and any partial
 * solution as a final assistant message to be continued. A server whose chat template joins them as
 * `system \n\n transcript \n\n user \n\n Solution:\n assistant` (`chatToPrompt`) sees exactly
 * `renderPrompt`'s text.
 */
export function renderChatMessages(req: Rendered): ChatMessage[] {
  const attempts = (req.attempts ?? []).slice(-REVISION_CONTEXT);
  const user = [PROBLEM_HEADER + req.question.trim()];
  attempts.forEach((a, i) => user.push(ATTEMPT_OPEN(i + 1) + a.trim() + ATTEMPT_CLOSE(i + 1)));
  const instruction = (req.attempts ?? []).length > 0 ? REVISE_INSTRUCTION : SOLVE_INSTRUCTION;
  const messages: ChatMessage[] = [
    { role: "system", content: instruction + renderInstructions(req.context) },
    ...(req.context?.turns ?? []).map((t) => ({ role: t.role, content: t.content.trim() })),
    { role: "user", content: user.join(STEP_SEPARATOR) },
  ];
  if (req.prefix.length > 0) messages.push({ role: "assistant", content: joinSteps(req.prefix) + STEP_SEPARATOR });
  return messages;
}

/** The inverse of renderChatMessages, as a simple chat template would apply it. */
export function chatToPrompt(messages: readonly ChatMessage[]): string {
  const system = messages.find((m) => m.role === "system")?.content ?? SOLVE_INSTRUCTION;
  const rest = messages.filter((m) => m.role !== "system");
  const last = rest[rest.length - 1];
  const partial = last?.role === "assistant" ? last.content : "";
  const turns = last?.role === "assistant" ? rest.slice(0, -1) : rest;
  const user = turns[turns.length - 1]?.content ?? "";
  return `${system}${renderTranscript(turns.slice(0, -1))}${STEP_SEPARATOR}${user}${STEP_SEPARATOR}${SOLUTION_HEADER}${partial}`;
}
