/**
 * The public API's contract: request and response bodies as zod schemas, the single source for validation
 * (and, later, the OpenAPI document). Route handlers and the Durable Object both speak these types.
 */
import { z } from "zod";
import { generationCost, STRATEGIES, strategyOf, StrategySpecSchema } from "../engine/strategies";

export const MAX_PROMPT_CHARS = 20_000;
/**
 * Generations one solve may plan. Its state lives in one Durable Object's storage, split across rows, so
 * the limit is the work one object should do, not the size of a stored value.
 */
export const MAX_SOLVE_GENERATIONS = 4096;
/** Request bodies larger than this are refused before they are parsed. */
export const MAX_BODY_BYTES = 256 * 1024;

export const BudgetSchema = z
  .object({
    /** In the paper's units: N for best-of-N and beam search, N·(k+1) for lookahead, s·p for revisions. */
    generations: z.number().int().min(1).max(4096).optional(),
    /** Billed tokens: generator and verifier, prompt and completion. */
    tokens: z.number().int().min(1).optional(),
    /** US dollars at the configured providers' prices. */
    money: z.number().positive().optional(),
    /** Inference FLOPs, 2·P·D for every model called. */
    flops: z.number().positive().optional(),
    /** Milliseconds from the request. */
    deadlineMs: z.number().int().min(100).max(15 * 60_000).optional(),
  })
  .strict();

const costFormulas = STRATEGIES.map((s) => `${s.name} ${s.costFormula}`).join(", ");

/** `auto` (the default): the fitted policy chooses the strategy for this prompt within the budget. */
export const AutoStrategySchema = z.strictObject({ strategy: z.literal("auto") });

/** What a request may name: `auto`, or one of the registered strategies with its parameters. */
export const RequestStrategySchema = z.discriminatedUnion("strategy", [AutoStrategySchema, ...StrategySpecSchema.options]).superRefine((spec, ctx) => {
  if (spec.strategy === "auto") return;
  const cost = generationCost(spec);
  if (cost > MAX_SOLVE_GENERATIONS) {
    ctx.addIssue({
      code: "custom",
      message: `a solve may spend at most ${MAX_SOLVE_GENERATIONS} generations; this ${spec.strategy} costs ${cost} (${strategyOf(spec.strategy).costFormula}; generations are ${costFormulas})`,
    });
  }
});

export const CreateSolveSchema = z
  .object({
    prompt: z.string().trim().min(1, "prompt must not be empty").max(MAX_PROMPT_CHARS, `prompt must be at most ${MAX_PROMPT_CHARS} characters`),
    /** A strategy spec, or `{"strategy": "auto"}` (the default) to let the policy choose. */
    strategy: RequestStrategySchema.default({ strategy: "auto" }),
    /** With `auto`: return the policy's decision and its expected cost and accuracy, and start nothing. */
    dry_run: z.boolean().default(false),
    budget: BudgetSchema.default({}),
    seed: z.number().int().min(0).max(2 ** 32 - 1).optional(),
    mode: z.enum(["sync", "async"]).default("async"),
    /** POST the result here when the solve ends (Standard Webhooks, signed with the tenant's secret). */
    webhook: z.object({ url: z.string().max(2048) }).strict().optional(),
  })
  .strict();

export type CreateSolve = z.output<typeof CreateSolveSchema>;
export type ApiBudget = z.output<typeof BudgetSchema>;

/** The policy's decision for an `auto` solve (src/policy/auto.ts). */
export const AutoDecisionSchema = z.object({
  policyVersion: z.string(),
  /** Predicted difficulty bin, 1 (easiest) to 5, and what predicted it: `free` is the prompt's text alone. */
  bin: z.number().int(),
  estimator: z.enum(["free", "probe"]),
  /** True when this solve explores a close alternative to the policy's choice (a configured share of auto solves). */
  exploration: z.boolean(),
  config: z.string(),
  /** The chosen strategy spec, as it would be given explicitly. */
  strategy: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.undefined()])),
  /** The token cap the choice was made within, and where it came from. */
  capTokens: z.number(),
  capFrom: z.enum(["request", "policy default", "key default"]),
  /**
   * The calibration data's figures for this choice on problems of this bin: accuracy (95% interval), count,
   * tokens. In-sample: the choice was made on the same problems, so accuracy is optimistic.
   */
  evidence: z.object({ accuracy: z.number(), lo: z.number(), hi: z.number(), count: z.number().int(), meanTokens: z.number(), highTokens: z.number() }),
});

const SpendSchema = z.object({
  generations: z.number(),
  samples: z.number().int(),
  tokens: z.number().int(),
  verifierTokens: z.number().int(),
  flops: z.number(),
  money: z.number(),
});

export const SolveViewSchema = z.object({
  id: z.uuid(),
  status: z.enum(["running", "done"]),
  stopReason: z.enum(["complete", "budget", "deadline", "cancelled", "failed"]).optional(),
  /** Why the solve failed, or which cap stopped it. */
  detail: z.string().optional(),
  strategy: z.string(),
  /** For `auto` solves: what the policy chose and why. */
  policy: AutoDecisionSchema.optional(),
  answer: z.string().nullable(),
  /** Share of the selection weight behind the answer. */
  confidence: z.number().nullable(),
  steps: z.number().int(),
  spend: SpendSchema,
  createdAt: z.number().int(),
});

export type SolveView = z.output<typeof SolveViewSchema>;

/** An outcome reported for a finished solve: whether it was right, the right answer, or both. */
export const FeedbackSchema = z
  .strictObject({
    correct: z.boolean().optional(),
    /** The right answer; without `correct`, the solve's answer is graded against it. */
    answer: z.string().trim().min(1, "answer must not be empty").max(1000).optional(),
  })
  .refine((f) => f.correct !== undefined || f.answer !== undefined, { message: "give correct (true or false), the right answer, or both" });

export const FeedbackViewSchema = z.object({ solveId: z.uuid(), correct: z.boolean(), answer: z.string().nullable(), recordedAt: z.number().int() });

/** The answer to a dry run: the policy's decision for the prompt, nothing started. */
export const DryRunViewSchema = z.object({ dryRun: z.literal(true), policy: AutoDecisionSchema });

export const ErrorBodySchema = z.object({ error: z.object({ type: z.string(), message: z.string() }) });

/** The first issue of a failed parse as one sentence naming the field. */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "invalid request";
  const path = issue.path.length ? issue.path.join(".") : "body";
  return `${path}: ${issue.message}`;
}

export const UsageViewSchema = z.object({
  keyId: z.string(),
  tenantId: z.string(),
  ratePerMinute: z.number().int(),
  defaultSolveBudget: z.object({ tokens: z.number().int(), money: z.number() }),
  day: z.string(),
  tokens: z.object({ limit: z.number(), spent: z.number(), reserved: z.number() }),
  money: z.object({ limit: z.number(), spent: z.number(), reserved: z.number() }),
});
