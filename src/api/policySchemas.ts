/** Bodies of the policy routes: the active version, the version history, re-tunes and rollbacks. */
import { z } from "zod";
import { CalibrationStatusSchema } from "../wiring/calibrationStatus";
import { PolicySchema } from "../policy/document";

const ReplayScoreSchema = z.object({
  /** Held-out outcomes whose logged configuration this policy would have chosen at the logged cap. */
  replayed: z.number().int(),
  accuracy: z.number(),
  meanTokens: z.number(),
  /** Mean cost in the policy's unit (its `costUnit`; the same as meanTokens for a policy in tokens): what promotion compares. */
  meanCost: z.number().optional(),
  accuracyPerKTokens: z.number(),
});

/** How a re-tuned version compared with the policy active when it was fitted (two-fold replay on logged outcomes). */
export const PolicyEvaluationSchema = z.object({
  method: z.literal("two-fold replay"),
  outcomes: z.number().int(),
  active: ReplayScoreSchema,
  candidate: ReplayScoreSchema,
});

/** Whose policy a view is of: a tenant's id, or null for the global policy. */
const TenantScopeSchema = z.string().nullable();
/** Whether the version in force is the tenant's own or the global policy's (which a tenant follows until it has its own). */
const PolicySourceSchema = z.enum(["tenant", "global"]);

export const ActivePolicyViewSchema = z.object({
  version: z.string(),
  /** When it became active (ms since the epoch); null for the shipped calibration before any change. */
  since: z.number().nullable(),
  kind: z.enum(["calibration", "retune"]),
  tenantId: TenantScopeSchema,
  source: PolicySourceSchema,
  document: PolicySchema,
  /** Whether the policy was calibrated for the configured providers (server kinds and models). */
  calibration: CalibrationStatusSchema,
});

export const PolicyVersionViewSchema = z.object({
  version: z.string(),
  kind: z.enum(["calibration", "retune"]),
  /** The version active when this one was fitted (null for the shipped calibration). */
  parent: z.string().nullable(),
  /** Labelled outcomes it was fitted on (the calibration's problems for the shipped version). */
  outcomes: z.number().int(),
  /** shipped: the bundled calibration; uploaded: installed by the operator; promoted or rejected: what its re-tune decided, and why. */
  decision: z.enum(["shipped", "uploaded", "promoted", "rejected"]),
  reason: z.string(),
  evaluation: PolicyEvaluationSchema.nullable(),
  active: z.boolean(),
  createdAt: z.number(),
});

export const PolicyEventViewSchema = z.object({
  at: z.number(),
  action: z.enum(["promote", "activate", "rollback"]),
  fromVersion: z.string(),
  toVersion: z.string(),
  actor: z.string(),
});

export const PolicyVersionListSchema = z.object({
  active: z.string(),
  tenantId: TenantScopeSchema,
  source: PolicySourceSchema,
  /** The global policy's active version (what a tenant without its own version uses). */
  globalActive: z.string(),
  data: z.array(PolicyVersionViewSchema),
  history: z.array(PolicyEventViewSchema),
});

export const RetuneViewSchema = z.object({
  tenantId: TenantScopeSchema,
  /** The global re-tune only: each trusted tenant's outcomes offered, and admitted under the per-source cap. */
  sources: z
    .array(z.object({ tenantId: z.string(), offered: z.number().int(), admitted: z.number().int() }))
    .optional(),
  version: z.string(),
  parent: z.string(),
  outcomes: z.number().int(),
  promoted: z.boolean(),
  reason: z.string(),
  evaluation: PolicyEvaluationSchema,
  /** The version auto solves use now. */
  active: z.string(),
});

/** `version`: a version to return to, or for a tenant `"global"` to follow the global policy again. */
export const RollbackSchema = z.strictObject({ version: z.string().min(1).max(100) });

export const RollbackViewSchema = z.object({
  active: z.string(),
  previous: z.string(),
  at: z.number(),
  tenantId: TenantScopeSchema,
  source: PolicySourceSchema,
});

/** An operator installs a policy fitted elsewhere (e.g. `npm run calibrate -- --dataset … --service …` on real providers). */
export const UploadPolicySchema = z.strictObject({
  /** A ttc-policy/1 document; validated in full (its features must be this build's). */
  document: z.unknown(),
  /** Make it the active version at once (logged as `activate`). */
  activate: z.boolean().default(false),
});

export const UploadedPolicyViewSchema = z.object({ version: z.string(), active: z.string() });
