/**
 * Wire formats shared by the provider adapters and the simulated world's HTTP server: the request and
 * response shapes of OpenAI-compatible completions and chat, vLLM's pooling API for a process reward model
 * in the Qwen2.5-Math-PRM input format, and the LLM-as-judge prompt. Responses are zod schemas so that an
 * adapter validates everything it receives.
 */
import { z } from "zod";

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

/** Qwen2.5-Math-PRM: steps end with the <extra_0> step token; the model returns [p_neg, p_pos] at each. */
export const PRM_STEP_TOKEN = "<extra_0>";
const PRM_SYSTEM = "Please reason step by step, and put your final answer within \\boxed{}.";

/** Math-Shepherd's step tag, for a PRM served with that separator. */
export const MATH_SHEPHERD_STEP_TAG = "ки";

export function renderPrmInput(question: string, steps: readonly string[], separator = PRM_STEP_TOKEN): string {
  const answer = steps.map((s) => s + separator).join("");
  return `<|im_start|>system\n${PRM_SYSTEM}<|im_end|>\n<|im_start|>user\n${question}<|im_end|>\n<|im_start|>assistant\n${answer}<|im_end|><|endoftext|>`;
}

/** Read question and steps back out of a PRM input (what the simulated PRM does with the text it is sent). */
export function parsePrmInput(text: string, separator = PRM_STEP_TOKEN): { question: string; steps: string[] } | null {
  const m = /<\|im_start\|>user\n([\s\S]*?)<\|im_end\|>\n<\|im_start\|>assistant\n([\s\S]*?)<\|im_end\|>/.exec(text);
  if (!m) return null;
  const body = m[2] ?? "";
  const steps = body.split(separator);
  steps.pop(); // text after the last step token
  return { question: m[1] ?? "", steps };
}

/** LLM-as-judge: the probability of "Yes" to whether the last step of a partial solution is correct. */
export const JUDGE_SYSTEM = "You are a careful math grader. Answer with a single word, Yes or No.";
export const JUDGE_QUESTION =
  "Is the last step above correct, and does the solution so far lead toward the right answer?";

export function renderJudgeUser(question: string, steps: readonly string[]): string {
  return `Problem: ${question}\n\nPartial solution:\n${steps.join("\n\n")}\n\n${JUDGE_QUESTION}`;
}

export function parseJudgeUser(text: string): { question: string; steps: string[] } | null {
  const m = /^Problem: ([\s\S]*?)\n\nPartial solution:\n([\s\S]*)\n\n/.exec(text);
  if (!m || !text.endsWith(JUDGE_QUESTION)) return null;
  return { question: m[1] ?? "", steps: (m[2] ?? "").split("\n\n") };
}
