/**
 * The compute-optimal policy as a versioned document (method.md §6–§7): fitted, never hand-written. It
 * holds the free difficulty estimator (its features, weights and bin thresholds) and, per predicted
 * difficulty bin, the strategy to run at each cost budget with the evidence it was chosen on.
 */
import { z } from "zod";
import { CostUnitSchema } from "../engine/meter";
import { StrategySpecSchema } from "../engine/strategies";
import { featureNames } from "./features";
import { PROBE_FEATURES } from "./probe";
import { CalibratedForSchema } from "./fingerprint";

const IntervalSchema = z.strictObject({ estimate: z.number(), low: z.number(), high: z.number() });

/** The held-out headline a calibration measured (src/eval/headline.ts). */
export const CalibrationHeadlineSchema = z.strictObject({
  heldOutProblems: z.number().int().min(1),
  pairs: z.array(z.strictObject({ fit: z.array(z.number().int()), heldOut: z.number().int() })),
  budgets: z.array(
    z.strictObject({
      budget: z.number().positive(),
      deltaPoints: IntervalSchema,
      policyAccuracy: z.number().min(0).max(1),
      baselineAccuracy: z.number().min(0).max(1),
      baselineConfig: z.string(),
    }),
  ),
});

/**
 * What a calibration measured and for whom: the models it was calibrated for, the hard caps it was fitted and
 * judged under, and its held-out headline (src/eval/headline.ts): per budget, the policy's accuracy minus the
 * best fixed configuration's (chosen on fit seeds), in points, with its 90% paired bootstrap interval.
 */
const CalibrationSchema = z.strictObject({
  calibratedFor: CalibratedForSchema,
  fingerprint: z.string().min(1),
  caps: z.strictObject({
    unit: z.enum(["tokens", "money", "flops"]),
    /** A run over the cap (or without an answer) counted as a failure when arms and the headline were measured. */
    overCap: z.literal("failure"),
    budgets: z.array(z.number().positive()),
  }),
  headline: CalibrationHeadlineSchema.nullable(),
});

const EvidenceSchema = z.strictObject({
  /** Accuracy on the calibration problems of the bin, with its 95% Wilson interval and count. */
  accuracy: z.number().min(0).max(1),
  lo: z.number().min(0).max(1),
  hi: z.number().min(0).max(1),
  count: z.number().int().min(0),
  /** For a re-tuned policy: how many of `count` are pseudo-outcomes carried over from the policy it refitted. */
  prior: z.number().min(0).optional(),
  /** Mean and 90th-percentile cost per problem, in the policy's cost unit. */
  meanCost: z.number().min(0),
  highCost: z.number().min(0),
  meanGenerations: z.number().min(0),
  /** Mean and 90th-percentile billed tokens, when the cost unit is not tokens (a token cap bounds the choice too). */
  meanTokens: z.number().min(0).optional(),
  highTokens: z.number().min(0).optional(),
});

const ArmSchema = z.strictObject({
  bin: z.number().int().min(1).max(5),
  /**
   * The cost budget (in the policy's unit) this arm is the best choice from: a mean cost per problem, or for a
   * calibration that chooses under hard caps (`calibration` present) the cap itself.
   */
  budget: z.number().positive(),
  /** The configuration's label, e.g. `beam-search(n=16,M=4)`. */
  config: z.string().min(1),
  spec: StrategySpecSchema,
  evidence: EvidenceSchema,
});

export type PolicyArm = z.output<typeof ArmSchema>;

/**
 * A configuration worth trying in a bin though not (yet) chosen: exploration tries it, so that a re-tune
 * learns whether it should be. Its cost is known; its accuracy there is not (well enough).
 */
const AlternativeSchema = z.strictObject({
  bin: z.number().int().min(1).max(5),
  config: z.string().min(1),
  spec: StrategySpecSchema,
  /** Outcomes seen for it in this bin so far. */
  count: z.number().int().min(0),
  meanCost: z.number().min(0),
  highCost: z.number().min(0),
  meanGenerations: z.number().min(0),
  meanTokens: z.number().min(0).optional(),
  highTokens: z.number().min(0).optional(),
});

export type PolicyAlternative = z.output<typeof AlternativeSchema>;

export const PolicySchema = z
  .strictObject({
    format: z.literal("ttc-policy/1"),
    version: z.string().min(1).max(100),
    createdAt: z.string().min(1),
    source: z.strictObject({
      kind: z.enum(["calibration", "retune"]),
      world: z.string().optional(),
      dataset: z.string(),
      seed: z.number().int().min(0),
      problems: z.number().int().min(1),
      oracleSamples: z.number().int().min(1),
      command: z.string(),
    }),
    /**
     * What arms are fitted and capped on: billed tokens, or dollars or FLOPs when models of different sizes and
     * prices compete (a larger model's token is not a small model's token), as with escalation arms.
     */
    costUnit: CostUnitSchema,
    /** The verifier probe run before choosing (its features join the estimator's), or none: text alone. */
    probe: z
      .strictObject({ samples: z.number().int().min(1).max(64), temperature: z.number().min(0).max(2) })
      .nullable(),
    estimator: z.strictObject({
      /**
       * ridge-text: ridge regression to the logit of the base model's pass@1 (calibration); logistic-outcome:
       * logistic regression of logged outcomes with one offset per configuration (a re-tune from feedback).
       */
      kind: z.enum(["ridge-text", "logistic-outcome"]),
      features: z.array(z.string()),
      means: z.array(z.number()),
      scales: z.array(z.number().positive()),
      weights: z.array(z.number()),
      bias: z.number(),
      lambda: z.number().positive(),
      /** Ascending predicted-logit thresholds between bins 5|4|3|2|1. */
      thresholds: z.array(z.number()).length(4),
      /** Cross-validated error: for ridge-text the mean squared error of the logit of pass@1, for logistic-outcome the mean log loss. */
      cvError: z.number().min(0),
    }),
    /** The cost cap used when a request gives none (where the policy's accuracy stops paying for its cost). */
    defaultBudget: z.number().positive(),
    /**
     * How an arm is taken at a cap: `cap` (a calibration under hard caps) the bin's arm chosen for the largest
     * cap within it (`budget`); absent, the bin's richest arm whose 90th-percentile cost fits (re-tunes, and
     * policies calibrated by mean cost).
     */
    armChoice: z.literal("cap").optional(),
    arms: z.array(ArmSchema).min(1),
    /** Configurations exploration may try besides the arms (none in a calibrated policy: every configuration was measured). */
    alternatives: z.array(AlternativeSchema).default([]),
    /** Absent in policies calibrated before issue 20 and in re-tunes. */
    calibration: CalibrationSchema.optional(),
  })
  .superRefine((p, ctx) => {
    const names = [...featureNames(), ...(p.probe ? PROBE_FEATURES : [])];
    const e = p.estimator;
    if (e.features.length !== names.length || e.features.some((f, i) => f !== names[i])) {
      ctx.addIssue({
        code: "custom",
        path: ["estimator", "features"],
        message: `must be this build's features (${names.length}: ${names.slice(0, 3).join(", ")}, ...)`,
      });
    }
    for (const key of ["means", "scales", "weights"] as const) {
      if (e[key].length !== names.length)
        ctx.addIssue({
          code: "custom",
          path: ["estimator", key],
          message: `must have ${names.length} entries, one per feature`,
        });
    }
    if (e.thresholds.some((t, i) => i > 0 && t < (e.thresholds[i - 1] as number)))
      ctx.addIssue({ code: "custom", path: ["estimator", "thresholds"], message: "must be ascending" });
    for (let bin = 1; bin <= 5; bin++) {
      if (!p.arms.some((a) => a.bin === bin))
        ctx.addIssue({ code: "custom", path: ["arms"], message: `no arm for difficulty bin ${bin}` });
    }
    if (p.costUnit !== "tokens") {
      if (p.probe)
        ctx.addIssue({
          code: "custom",
          path: ["probe"],
          message: `a policy fitted in ${p.costUnit} chooses from the text alone (probing policies are fitted in tokens)`,
        });
      p.arms.forEach((a, i) => {
        if (a.evidence.highTokens === undefined || a.evidence.meanTokens === undefined)
          ctx.addIssue({
            code: "custom",
            path: ["arms", i, "evidence"],
            message: `needs meanTokens and highTokens when the cost unit is ${p.costUnit}`,
          });
      });
      p.alternatives.forEach((a, i) => {
        if (a.highTokens === undefined || a.meanTokens === undefined)
          ctx.addIssue({
            code: "custom",
            path: ["alternatives", i],
            message: `needs meanTokens and highTokens when the cost unit is ${p.costUnit}`,
          });
      });
    }
  });

export type PolicyDocument = z.output<typeof PolicySchema>;

/** An arm's billed tokens, mean and 90th percentile: its cost when the policy is in tokens, else recorded beside it. */
export function armTokens(e: PolicyArm["evidence"]): { mean: number; high: number } {
  return { mean: e.meanTokens ?? e.meanCost, high: e.highTokens ?? e.highCost };
}

/** Validate a parsed policy document; the error names the first offending field. */
export function parsePolicy(data: unknown): { ok: true; policy: PolicyDocument } | { ok: false; error: string } {
  const r = PolicySchema.safeParse(data);
  if (r.success) return { ok: true, policy: r.data };
  const issue = r.error.issues[0];
  const path = issue?.path.length ? issue.path.join(".") : "(root)";
  return { ok: false, error: `policy field ${path}: ${issue?.message ?? "invalid"}` };
}
