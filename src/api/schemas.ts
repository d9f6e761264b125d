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

const EvidenceViewSchema = z.object({
  accuracy: z.number(),
  lo: z.number(),
  hi: z.number(),
  count: z.number().int(),
  meanTokens: z.number(),
  highTokens: z.number(),
  /** Mean and 90th-percentile cost in the policy's unit (`costUnit`; equal to the token figures for a policy in tokens). */
  meanCost: z.number().optional(),
  highCost: z.number().optional(),
});
const CapFromSchema = z.enum(["request", "policy default", "key default"]);

/** The policy's decision for an `auto` solve (src/policy/auto.ts), made at the edge or after the solve's probe. */
export const AutoDecisionSchema = z.object({
  state: z.literal("decided"),
  policyVersion: z.string(),
  /**
   * Predicted difficulty bin, 1 (easiest) to 5, and what predicted it: `free` is the prompt's text alone,
   * `probe` the text and a verifier probe run as the solve's first step (see `probe`).
   */
  bin: z.number().int(),
  estimator: z.enum(["free", "probe"]),
  /** True when this solve explores an alternative to the policy's choice (a configured share of auto solves). */
  exploration: z.boolean(),
  /** The probability this configuration had of being run for this prompt (what a re-tune weighs the outcome by). */
  propensity: z.number().min(0).max(1).optional(),
  config: z.string(),
  /** The chosen strategy spec, as it would be given explicitly. */
  strategy: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.undefined()])),
  /**
   * What the policy's arms are fitted and capped on: `tokens`, or `money` (dollars) or `flops` for a policy
   * whose arms include the larger model (escalation), and the cap in that unit the choice was made within.
   */
  costUnit: z.enum(["tokens", "money", "flops"]).optional(),
  capCost: z.number().optional(),
  /** The token cap the whole solve (the probe included) was chosen within, and where it came from. */
  capTokens: z.number(),
  capFrom: CapFromSchema,
  /**
   * The calibration data's figures for this choice on problems of this bin: accuracy (95% interval), count,
   * tokens. In-sample: the choice was made on the same problems, so accuracy is optimistic.
   */
  evidence: EvidenceViewSchema,
  /**
   * With estimator `probe`: the probe that ran first — k samples at the policy's temperature scored by the
   * PRM — its features by name, and what it spent (part of the solve's spend; the arm got the rest of the
   * cap). Its samples are the arm's candidates: best-of-N counts them toward N, other strategies add them to
   * their final selection.
   */
  probe: z
    .object({
      samples: z.number().int(),
      temperature: z.number(),
      features: z.record(z.string(), z.number()),
      spend: z.object({ tokens: z.number(), generations: z.number(), money: z.number() }),
    })
    .optional(),
  /** With estimator `free` under a policy that probes: why the probe did not run (the cap could not afford it). */
  probeSkipped: z.string().optional(),
});

/** The probe a policy runs first, before any arm is chosen. */
const ProbeInfoSchema = z.object({
  samples: z.number().int(),
  temperature: z.number(),
  /** Its worst case, estimated before it runs (every sample at max_tokens, each scored): the cap covers this plus an arm, or the probe is skipped. */
  worstTokens: z.number(),
  /** Its expected cost from the policy's evidence (best-of-N weighted arms' cost per sample), when it has any. */
  expectedTokens: z.number().nullable(),
});

/** An `auto` solve whose policy probes first, before the probe has finished: no arm is chosen yet. */
export const ProbingSchema = z.object({
  state: z.literal("probing"),
  policyVersion: z.string(),
  estimator: z.literal("probe"),
  capTokens: z.number(),
  capFrom: CapFromSchema,
  probe: ProbeInfoSchema,
});

/** What a solve's `policy` shows: `decided`, or `probing` (if the solve is done in this state, it stopped during the probe). */
export const PolicyViewSchema = z.discriminatedUnion("state", [AutoDecisionSchema, ProbingSchema]);
export type PolicyView = z.output<typeof PolicyViewSchema>;

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
  /** For `auto` solves: what the policy chose and why, or that it is probing first. */
  policy: PolicyViewSchema.optional(),
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
