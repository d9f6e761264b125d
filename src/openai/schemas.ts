/**
 * The OpenAI-compatible contract as zod schemas: the chat completion request (what we accept, what we
 * refuse with a message, and the `ttc` extension), and the shapes we answer with (for the OpenAPI document).
 */
import { z } from "zod";
import { BudgetSchema } from "../api/schemas";
import { EFFORTS } from "./models";

/**
 * A content part. Text is read; any other kind (images, audio, files) cannot be served and is refused in
 * `conversation.ts` naming the part.
 */
const ContentPart = z.looseObject({ type: z.string(), text: z.string().optional() });

export const MessageContentSchema = z.union([z.string(), z.array(ContentPart), z.null()]);

/** Extra fields a message may carry (`name`, an assistant's `refusal` or `annotations`) are accepted and unused. */
const MessageSchema = z.looseObject({
  role: z.enum(["system", "developer", "user", "assistant", "tool", "function"]),
  content: MessageContentSchema.optional(),
  tool_calls: z.array(z.unknown()).nullable().optional(),
  function_call: z.unknown().optional(),
});

/** The budget and strategy parameters beyond what `model` and `reasoning_effort` say. */
export const TtcExtensionSchema = z
  .object({
    /** Strategy parameters, e.g. `{"n": 32, "width": 8}` for ttc-beam-search; override the effort preset. */
    strategy: z.record(z.string(), z.unknown()).optional(),
    budget: BudgetSchema.optional(),
  })
  .strict();

/** OpenAI's limits on `metadata`: 16 pairs, keys up to 64 characters, values up to 512. */
export const MetadataSchema = z
  .record(z.string().max(64), z.string().max(512))
  .refine((m) => Object.keys(m).length <= 16, { message: "at most 16 key-value pairs" });

export const StopSchema = z.union([z.string().min(1), z.array(z.string().min(1)).max(4)]).nullable();

/**
 * Every parameter of OpenAI's chat completion reference is accepted (openai-node's
 * `ChatCompletionCreateParamsBase`, resources/chat/completions/completions.ts). Those with a meaning here are
 * validated and honoured; the rest, and names we do not know, are ignored and named in the
 * `x-ttc-ignored-params` response header (`params.ts`), except values that cannot be served
 * (`logprobs: true`, a JSON `response_format`, tools), which are refused naming the parameter.
 */
export const ChatCompletionRequestSchema = z.looseObject({
  model: z.string(),
  messages: z.array(MessageSchema).min(1, "messages must not be empty"),
  reasoning_effort: z
    .enum(EFFORTS)
    .nullable()
    .optional()
    .transform((e) => e ?? "medium"),
  n: z
    .number()
    .int()
    .min(1)
    .max(8)
    .nullable()
    .optional()
    .transform((n) => n ?? 1),
  stream: z
    .boolean()
    .nullable()
    .optional()
    .transform((b) => b === true),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
  /** Any integer, as OpenAI takes it; reduced to 32 bits for the search's seed. */
  seed: z.number().int().nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  /** Caps the tokens the search may spend (prompt and completion, generator and verifier). */
  max_completion_tokens: z.number().int().min(1).nullable().optional(),
  max_tokens: z.number().int().min(1).nullable().optional(),
  stop: StopSchema.optional(),
  user: z.string().nullable().optional(),
  metadata: MetadataSchema.nullable().optional(),
  ttc: TtcExtensionSchema.optional(),
});

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
      message: z.object({ role: z.literal("assistant"), content: z.string(), refusal: z.null() }),
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
