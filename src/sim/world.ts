/**
 * The simulated world's configuration: every knob of sim-world.md in one JSON document, validated on load.
 * Logits are on the natural-log-odds scale; "hardness" is the per-step difficulty computed from the text.
 */
import { z } from "zod";

const Model = z.strictObject({
  /** Parameter count, for FLOPs. */
  parameters: z.number().positive(),
  /** Subtracted from every step's error logit: higher is a stronger model. */
  skill: z.number(),
  inputPricePerMillion: z.number().min(0),
  outputPricePerMillion: z.number().min(0),
});

export const WorldSchema = z
  .strictObject({
    name: z.string().min(1),
    description: z.string().default(""),
    problems: z.strictObject({
      minOps: z.number().int().min(1).max(20),
      maxOps: z.number().int().min(1).max(20),
      /** Probability that a multiplication uses a 2- or 3-digit multiplier instead of one digit. */
      bigMultiplierRate: z.number().min(0).max(1),
      /** Largest absolute intermediate value the generator allows. */
      maxValue: z.number().int().positive(),
    }),
    errors: z.strictObject({
      /** Error logit of a step of zero hardness, before the model's skill. */
      baseLogit: z.number(),
      /** Added per unit of step hardness. */
      hardnessWeight: z.number().min(0),
      /** Scale of the per-problem factor (a hash of the problem text, uniform in [-1, 1]). */
      factorWeight: z.number().min(0),
      /** Share of wrong steps that make the step's common mistake (the rest are random slips). */
      commonMistakeShare: z.number().min(0).max(1),
      /** Temperature at which the PRM's notion of value (chance to finish correctly) is computed. */
      referenceTemperature: z.number().positive(),
    }),
    degenerate: z.strictObject({
      /** Per-step chance (at temperature 1, scaled by difficulty) of boxing the current value early, in the first two steps. */
      shortcutRate: z.number().min(0).max(1),
      /** Per-step chance (at temperature 1, scaled by difficulty) of a repetitive checking step. */
      checkRate: z.number().min(0).max(1),
      /** Chance that a checking step is followed by another one. */
      checkRepeat: z.number().min(0).max(0.99),
      /** How much more often degenerate steps appear on the hardest problems than on the easiest (multiplier at difficulty 1). */
      hardBoost: z.number().min(1),
    }),
    verifier: z.strictObject({
      parameters: z.number().positive(),
      inputPricePerMillion: z.number().min(0),
      outputPricePerMillion: z.number().min(0),
      /**
       * Rollouts behind each training label: the PRM scores a prefix it believes is on track by its chance that
       * at least one of k base-model rollouts from it reaches the right answer (Math-Shepherd labels with k = 8).
       */
      labelRollouts: z.number().int().min(1).max(1024),
      /** Multiplies logit(label value): how sharply the score tracks it. */
      signal: z.number().min(0),
      /**
       * The PRM's competence fades on problems beyond it: the signal is scaled by 1 / (1 + (λ/competenceLambda)^competenceExponent),
       * where λ is the expected number of wrong steps in a base-model sample.
       */
      competenceLambda: z.number().positive(),
      competenceExponent: z.number().min(0),
      /** Values are clipped to [epsilon, 1 - epsilon] before the logit. */
      epsilon: z.number().positive().max(0.5),
      offset: z.number(),
      /** Noise standard deviation (logit scale) on a problem the base model never gets wrong ... */
      noiseBase: z.number().min(0),
      /**
       * ... plus noisePerError · λ^noiseExponent, where λ is the expected number of wrong steps in a base-model
       * sample: above 1, the PRM stays useful on medium problems and becomes hopeless on the hardest.
       */
      noisePerError: z.number().min(0),
      noiseExponent: z.number().min(0.1).max(4),
      /**
       * Share of the noise variance that is systematic: keyed on what a step says (its position and value), not
       * on its wording, so sampling more solutions does not average it away.
       */
      systematicShare: z.number().min(0).max(1),
      /**
       * Its own skill at the arithmetic it judges (as a generator's skill): it checks a step by working it out,
       * and judges wrong a step whose result differs from its own.
       */
      skill: z.number(),
      /** Share of written results it lets pass without checking them (lapses of attention, the same for the same text). */
      trustRate: z.number().min(0).max(1),
      /** Logit bonus for a confident checking step (a bias, unrelated to correctness). */
      checkBias: z.number(),
      /** Logit bonus for a final answer boxed within the first three steps (a bias). */
      shortcutBias: z.number(),
    }),
    base: Model,
    large: Model,
    reviser: Model.extend({
      /** Skill gained per earlier attempt in context (up to four). */
      contextGain: z.number().min(0),
      /**
       * Share of the last attempt's operation steps it takes on trust instead of re-deriving them (a reviser
       * anchors on what it reads); a wrong step taken on trust is not fixed.
       */
      trustRate: z.number().min(0).max(1),
      /** Added to its error logit when it re-derives a step: trained to revise, it expects a mistake and sometimes makes one. */
      doubtLogit: z.number().min(-5).max(5),
    }),
    latency: z.strictObject({
      perCallMs: z.number().min(0),
      perTokenMs: z.number().min(0),
    }),
  })
  .refine((w) => w.problems.minOps <= w.problems.maxOps, {
    message: "minOps must not exceed maxOps",
    path: ["problems", "minOps"],
  });

export type World = z.output<typeof WorldSchema>;

/** Validate a parsed world document; the error names the first offending field. */
export function parseWorld(data: unknown): { ok: true; world: World } | { ok: false; error: string } {
  const r = WorldSchema.safeParse(data);
  if (r.success) return { ok: true, world: r.data };
  const issue = r.error.issues[0];
  const path = issue?.path.length ? issue.path.join(".") : "(root)";
  return { ok: false, error: `world field ${path}: ${issue?.message ?? "invalid"}` };
}
