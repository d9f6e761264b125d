/**
 * The public API's contract: request and response bodies as zod schemas, the single source for validation
 * and the OpenAPI document. A solve's view itself lives in src/solve (the Durable Object renders it).
 */
import { z } from "zod";
import { ApiError } from "../errors/apiError";
import { generationCost, STRATEGIES, strategyOf, StrategySpecSchema } from "../engine/strategies";
import { EvidenceViewSchema, PolicyViewSchema } from "../solve/schemas";

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
    deadlineMs: z
      .number()
      .int()
      .min(100)
      .max(15 * 60_000)
      .optional(),
  })
  .strict();

const costFormulas = STRATEGIES.map((s) => `${s.name} ${s.costFormula}`).join(", ");

/** `auto` (the default): the fitted policy chooses the strategy for this prompt within the budget. */
export const AutoStrategySchema = z.strictObject({ strategy: z.literal("auto") });

/** What a request may name: `auto`, or one of the registered strategies with its parameters. */
export const RequestStrategySchema = z
  .discriminatedUnion("strategy", [AutoStrategySchema, ...StrategySpecSchema.options])
  .superRefine((spec, ctx) => {
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
    prompt: z
      .string()
      .trim()
      .min(1, "prompt must not be empty")
      .max(MAX_PROMPT_CHARS, `prompt must be at most ${MAX_PROMPT_CHARS} characters`),
    /** A strategy spec, or `{"strategy": "auto"}` (the default) to let the policy choose. */
    strategy: RequestStrategySchema.default({ strategy: "auto" }),
    /** With `auto`: return the policy's decision and its expected cost and accuracy, and start nothing. */
    dry_run: z.boolean().default(false),
    budget: BudgetSchema.default({}),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 32 - 1)
      .optional(),
    mode: z.enum(["sync", "async"]).default("async"),
    /** POST the result here when the solve ends (Standard Webhooks, signed with the tenant's secret). */
    webhook: z
      .object({ url: z.string().max(2048) })
      .strict()
      .optional(),
  })
  .strict();

export type CreateSolve = z.output<typeof CreateSolveSchema>;
export type ApiBudget = z.output<typeof BudgetSchema>;

// A solve's view is rendered below the API (the Durable Object answers with it, webhooks carry it): its schemas
// live in src/solve and are part of the API's contract from here.
export {
  AutoDecisionSchema,
  ProbingSchema,
  PolicyViewSchema,
  SolveViewSchema,
  type PolicyView,
  type SolveView,
} from "../solve/schemas";

/** An outcome reported for a finished solve: whether it was right, the right answer, or both. */
export const FeedbackSchema = z
  .strictObject({
    correct: z.boolean().optional(),
    /** The right answer; without `correct`, the solve's answer is graded against it. */
    answer: z.string().trim().min(1, "answer must not be empty").max(1000).optional(),
  })
  .refine((f) => f.correct !== undefined || f.answer !== undefined, {
    message: "give correct (true or false), the right answer, or both",
  });

export const FeedbackViewSchema = z.object({
  solveId: z.uuid(),
  correct: z.boolean(),
  answer: z.string().nullable(),
  recordedAt: z.number().int(),
});

/**
 * What a dry run of a policy that probes first can know without running anything: the text's own prediction,
 * the arm each difficulty bin would get after the probe (within the cap less the probe's expected cost), and
 * the range of their evidence. Which of them runs is for the probe to find.
 */
export const ProbeForecastSchema = z.object({
  /** The bin the prompt's text alone predicts (the probe's features at their calibration means). */
  textOnly: z.object({ bin: z.number().int(), config: z.string() }),
  arms: z.array(z.object({ bin: z.number().int(), config: z.string(), evidence: EvidenceViewSchema })),
  /** Over those arms (in-sample): accuracy, and expected tokens (the probe's expected cost plus the arm's mean, its samples not credited). */
  accuracy: z.object({ low: z.number(), high: z.number() }),
  tokens: z.object({ low: z.number(), high: z.number() }),
});

/**
 * The answer to a dry run, nothing started: the policy's decision for the prompt (`state: "decided"`), or,
 * for a policy that probes first and a cap that affords the probe, `state: "probing"` with the probe that
 * would run first and a `forecast`.
 */
export const DryRunViewSchema = z.object({
  dryRun: z.literal(true),
  policy: PolicyViewSchema,
  forecast: ProbeForecastSchema.optional(),
});
export type DryRunView = z.output<typeof DryRunViewSchema>;

/** Every route's error body, in OpenAI's shape (`errors.ts`): `code` is ours, `type` OpenAI's, `param` the field. */
export const ErrorBodySchema = z.object({
  error: z.object({ message: z.string(), type: z.string(), param: z.string().nullable(), code: z.string() }),
});

/** The first issue of a failed parse as one sentence naming the field. */
/** A request body that does not validate: 400 naming the first offending field, also as OpenAI's `param`. */
export function invalidRequest(error: z.ZodError): ApiError {
  const path = error.issues[0]?.path ?? [];
  return new ApiError(400, "invalid_request", describeIssue(error), path.length ? { param: path.join(".") } : {});
}

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
