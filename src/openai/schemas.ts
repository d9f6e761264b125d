/**
 * The OpenAI-compatible contract as zod schemas: the chat completion request (what we accept, what we
 * refuse with a message, and the `ttc` extension), and the shapes we answer with (for the OpenAPI document).
 */
import { z } from "zod";
import { BudgetSchema } from "../api/schemas";
import { EFFORTS } from "./models";

const TextPart = z.object({ type: z.literal("text"), text: z.string() }).strict();

const MessageSchema = z
  .object({
    role: z.enum(["system", "developer", "user", "assistant", "tool"]),
    content: z.union([z.string(), z.array(TextPart).min(1), z.null()]),
    name: z.string().optional(),
  })
  .strict();

/** The budget and strategy parameters beyond what `model` and `reasoning_effort` say. */
export const TtcExtensionSchema = z
  .object({
    /** Strategy parameters, e.g. `{"n": 32, "width": 8}` for ttc-beam-search; override the effort preset. */
    strategy: z.record(z.string(), z.unknown()).optional(),
    budget: BudgetSchema.optional(),
  })
  .strict();

export const ChatCompletionRequestSchema = z
  .object({
    model: z.string(),
    messages: z.array(MessageSchema).min(1, "messages must not be empty"),
    reasoning_effort: z.enum(EFFORTS).default("medium"),
    n: z.number().int().min(1).max(8).default(1),
    stream: z.boolean().default(false),
    stream_options: z.object({ include_usage: z.boolean().optional() }).strict().nullable().optional(),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 32 - 1)
      .nullable()
      .optional(),
    temperature: z.number().min(0).max(2).nullable().optional(),
    /** Caps the tokens the search may spend (prompt and completion, generator and verifier). */
    max_completion_tokens: z.number().int().min(1).nullable().optional(),
    max_tokens: z.number().int().min(1).nullable().optional(),
    ttc: TtcExtensionSchema.optional(),
    // Accepted for compatibility and ignored: they have no meaning for a search over samples.
    top_p: z.number().nullable().optional(),
    presence_penalty: z.number().nullable().optional(),
    frequency_penalty: z.number().nullable().optional(),
    user: z.string().optional(),
    metadata: z.record(z.string(), z.string()).nullable().optional(),
    store: z.boolean().nullable().optional(),
    // Accepted only in their neutral form.
    logprobs: z.literal(false, { message: "logprobs are not supported by ttc models" }).nullable().optional(),
    response_format: z
      .object({ type: z.literal("text", { message: "only text responses are supported by ttc models" }) })
      .strict()
      .nullable()
      .optional(),
    tools: z.array(z.unknown()).max(0, "tools are not supported by ttc models").optional(),
  })
  .strict();

export type ChatCompletionRequest = z.output<typeof ChatCompletionRequestSchema>;

const UsageSchema = z.object({
  prompt_tokens: z.number().int(),
  completion_tokens: z.number().int(),
  total_tokens: z.number().int(),
  completion_tokens_details: z.object({ reasoning_tokens: z.number().int() }),
});

export const TtcResultSchema = z.object({
  solve_id: z.string(),
  strategy: z.string(),
  answer: z.string().nullable(),
  confidence: z.number().nullable(),
  stop_reason: z.string().optional(),
  spend: z.object({
    generations: z.number(),
    samples: z.number(),
    tokens: z.number(),
    verifierTokens: z.number(),
    flops: z.number(),
    money: z.number(),
  }),
});

export const ChatCompletionSchema = z.object({
  id: z.string(),
  object: z.literal("chat.completion"),
  created: z.number().int(),
  model: z.string(),
  choices: z.array(
    z.object({
      index: z.number().int(),
      message: z.object({ role: z.literal("assistant"), content: z.string().nullable(), refusal: z.null() }),
      finish_reason: z.enum(["stop", "length"]),
      logprobs: z.null(),
    }),
  ),
  usage: UsageSchema,
  ttc: TtcResultSchema,
});

export const ChatCompletionChunkSchema = z.object({
  id: z.string(),
  object: z.literal("chat.completion.chunk"),
  created: z.number().int(),
  model: z.string(),
  choices: z.array(
    z.object({
      index: z.number().int(),
      delta: z.object({
        role: z.literal("assistant").optional(),
        content: z.string().optional(),
        reasoning_content: z.string().optional(),
      }),
      finish_reason: z.enum(["stop", "length"]).nullable(),
    }),
  ),
  usage: UsageSchema.nullable().optional(),
});

export const ModelSchema = z.object({
  id: z.string(),
  object: z.literal("model"),
  created: z.number().int(),
  owned_by: z.string(),
});

export const ModelListSchema = z.object({ object: z.literal("list"), data: z.array(ModelSchema) });

export type Usage = z.output<typeof UsageSchema>;
