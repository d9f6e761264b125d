/**
 * How a semantic generation request becomes model input text. One template for every text-completion
 * provider (real or simulated): the simulated models read exactly this text, as a real model would.
 */
import { joinSteps, STEP_SEPARATOR } from "./solutionSteps";
import type { GenerateRequest } from "./types";

export const SOLVE_INSTRUCTION =
  "Solve the following math problem step by step. Write one step per paragraph, separate steps with a " +
  "blank line, and put the final answer in \\boxed{}.";

export const REVISE_INSTRUCTION =
  "Below are earlier attempts at this problem. Find any mistakes in the most recent attempt and write a " +
  "corrected, complete solution step by step, one step per paragraph, with the final answer in \\boxed{}.";

export const PROBLEM_HEADER = "Problem: ";
export const SOLUTION_HEADER = "Solution:\n";
export const ATTEMPT_OPEN = (i: number): string => `<attempt ${i}>\n`;
export const ATTEMPT_CLOSE = (i: number): string => `\n</attempt ${i}>`;

/** At most this many earlier attempts are shown to a revision model (method.md §5). */
export const REVISION_CONTEXT = 4;

/** The full text-completion prompt for a request; the model continues right after it. */
export function renderPrompt(req: Pick<GenerateRequest, "question" | "prefix" | "attempts">): string {
  const parts: string[] = [];
  const attempts = req.attempts ?? [];
  parts.push(attempts.length > 0 ? REVISE_INSTRUCTION : SOLVE_INSTRUCTION);
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
 * The same request as chat messages: the instruction as system, the problem (and earlier attempts) as user,
 * and any partial solution as a final assistant message to be continued. A server whose chat template joins
 * them as `system \n\n user \n\n Solution:\n assistant` sees exactly `renderPrompt`'s text.
 */
export function renderChatMessages(req: Pick<GenerateRequest, "question" | "prefix" | "attempts">): ChatMessage[] {
  const attempts = (req.attempts ?? []).slice(-REVISION_CONTEXT);
  const user = [PROBLEM_HEADER + req.question.trim()];
  attempts.forEach((a, i) => user.push(ATTEMPT_OPEN(i + 1) + a.trim() + ATTEMPT_CLOSE(i + 1)));
  const messages: ChatMessage[] = [
    { role: "system", content: (req.attempts ?? []).length > 0 ? REVISE_INSTRUCTION : SOLVE_INSTRUCTION },
    { role: "user", content: user.join(STEP_SEPARATOR) },
  ];
  if (req.prefix.length > 0) messages.push({ role: "assistant", content: joinSteps(req.prefix) + STEP_SEPARATOR });
  return messages;
}

/** The inverse of renderChatMessages, as a simple chat template would apply it. */
export function chatToPrompt(messages: readonly ChatMessage[]): string {
  const system = messages.find((m) => m.role === "system")?.content ?? SOLVE_INSTRUCTION;
  const user = messages
    .filter((m) => m.role === "user")
    .map((m) => m.content)
    .join(STEP_SEPARATOR);
  const last = messages[messages.length - 1];
  const partial = last?.role === "assistant" ? last.content : "";
  return `${system}${STEP_SEPARATOR}${user}${STEP_SEPARATOR}${SOLUTION_HEADER}${partial}`;
}
