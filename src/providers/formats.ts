/**
 * Wire formats shared by the provider adapters and the simulated world's HTTP server: the request and
 * response shapes of OpenAI-compatible completions and chat, vLLM's pooling API for a process reward model
 * in the Qwen2.5-Math-PRM input format, and the LLM-as-judge prompt. Responses are zod schemas so that an
 * adapter validates everything it receives.
 */
import { z } from "zod";
import { renderInstructions, renderTranscript } from "../engine/prompts";
import type { Conversation } from "../engine/types";

/**
 * Usage as reported: when present it must be complete (a missing completion count would be billed as zero and
 * weaken the caps); a response without it is charged at its worst case, marked estimated.
 */
export const UsageSchema = z.object({
  prompt_tokens: z.number().int().min(0),
  completion_tokens: z.number().int().min(0),
  total_tokens: z.number().int().min(0).optional(),
});

/** Pooling (a reward model) has no completion. */
export const PoolingUsageSchema = z.object({
  prompt_tokens: z.number().int().min(0),
  total_tokens: z.number().int().min(0).optional(),
});

export const CompletionsResponseSchema = z.object({
  choices: z.array(
    z.object({
      index: z.number().int().min(0),
      text: z.string(),
      finish_reason: z.string().nullable(),
    }),
  ),
  usage: UsageSchema.optional(),
});

const TopLogprob = z.object({ token: z.string(), logprob: z.number() });

export const ChatResponseSchema = z.object({
  choices: z.array(
    z.object({
      index: z.number().int().min(0),
      message: z.object({ role: z.string(), content: z.string().nullable() }),
      finish_reason: z.string().nullable(),
      logprobs: z
        .object({
          content: z
            .array(z.object({ token: z.string(), logprob: z.number(), top_logprobs: z.array(TopLogprob) }))
            .nullable(),
        })
        .nullable()
        .optional(),
    }),
  ),
  usage: UsageSchema.optional(),
});

export const PoolingResponseSchema = z.object({
  data: z.array(z.object({ index: z.number().int().min(0), data: z.array(z.array(z.number())) })),
  usage: PoolingUsageSchema,
});

/**
 * Qwen2.5-Math-PRM: steps end with the <extra_0> step token; the model returns [p_neg, p_pos] at each. A
 * conversation is rendered by the same chat template: its instructions join the system message, its earlier
 * turns are messages before the question, so the PRM scores the steps in the context the generator saw.
 */
export const PRM_STEP_TOKEN = "<extra_0>";
const PRM_SYSTEM = "Please reason step by step, and put your final answer within \\boxed{}.";
const IM_END = "<|im_end|>";

/** Math-Shepherd's step tag, for a PRM served with that separator. */
export const MATH_SHEPHERD_STEP_TAG = "ки";

export function renderPrmInput(
  question: string,
  steps: readonly string[],
  context?: Conversation,
  separator = PRM_STEP_TOKEN,
): string {
  const answer = steps.map((s) => s + separator).join("");
  const turns = (context?.turns ?? []).map((t) => `<|im_start|>${t.role}\n${t.content.trim()}${IM_END}\n`).join("");
  return `<|im_start|>system\n${PRM_SYSTEM}${renderInstructions(context)}${IM_END}\n${turns}<|im_start|>user\n${question}${IM_END}\n<|im_start|>assistant\n${answer}${IM_END}<|endoftext|>`;
}

/** Read question and steps back out of a PRM input (what the simulated PRM does with the text it is sent). */
export function parsePrmInput(text: string, separator = PRM_STEP_TOKEN): { question: string; steps: string[] } | null {
  // The last assistant message is the scored solution; the user message right before it is the question.
  const a = text.lastIndexOf("<|im_start|>assistant\n");
  const u = a < 0 ? -1 : text.lastIndexOf("<|im_start|>user\n", a);
  if (u < 0) return null;
  const userEnd = text.indexOf(`${IM_END}\n`, u);
  const body = text.slice(a + "<|im_start|>assistant\n".length);
  const bodyEnd = body.lastIndexOf(IM_END);
  if (userEnd < 0 || userEnd > a || bodyEnd < 0) return null;
  const steps = body.slice(0, bodyEnd).split(separator);
  steps.pop(); // text after the last step token
  return { question: text.slice(u + "<|im_start|>user\n".length, userEnd), steps };
}

/** LLM-as-judge: the probability of "Yes" to whether the last step of a partial solution is correct. */
export const JUDGE_SYSTEM = "You are a careful math grader. Answer with a single word, Yes or No.";
export const JUDGE_QUESTION =
  "Is the last step above correct, and does the solution so far lead toward the right answer?";

/** A conversation's instructions and earlier turns come first, as in the completion format (`prompts.ts`). */
export function renderJudgeUser(question: string, steps: readonly string[], context?: Conversation): string {
  const before = (renderInstructions(context) + renderTranscript(context?.turns ?? [])).replace(/^\n\n/, "");
  return `${before ? before + "\n\n" : ""}Problem: ${question}\n\nPartial solution:\n${steps.join("\n\n")}\n\n${JUDGE_QUESTION}`;
}

export function parseJudgeUser(text: string): { question: string; steps: string[] } | null {
  const s = text.lastIndexOf("\n\nPartial solution:\n");
  if (s < 0 || !text.endsWith(JUDGE_QUESTION)) return null;
  const at = text.lastIndexOf("\n\nProblem: ", s);
  const q = at >= 0 ? at + 2 : text.startsWith("Problem: ") ? 0 : -1;
  if (q < 0) return null;
  const steps = text.slice(s + "\n\nPartial solution:\n".length, text.length - JUDGE_QUESTION.length - 2);
  return { question: text.slice(q + "Problem: ".length, s), steps: steps.split("\n\n") };
}
