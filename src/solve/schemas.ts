/**
 * What a solve shows its caller (GET /v1/solves/{id}, the chat completion's `ttc` field, the completion
 * webhook): zod schemas, the single source of its validation and OpenAPI component.
 */
import { z } from "zod";
import { CostUnitSchema } from "../engine/meter";

export const EvidenceViewSchema = z.object({
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
  costUnit: CostUnitSchema.optional(),
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
  /**
   * The caps the solve runs under: the request's, and where it named none, the key's per-solve defaults
   * clipped to what the key's daily caps left when it started. `deadlineMs` is relative to `createdAt`.
   */
  budget: z
    .object({
      tokens: z.number().optional(),
      money: z.number().optional(),
      generations: z.number().optional(),
      flops: z.number().optional(),
      deadlineMs: z.number().optional(),
    })
    .optional(),
  createdAt: z.number().int(),
});

export type SolveView = z.output<typeof SolveViewSchema>;
