/**
 * Strategy specifications: the single source for validating a strategy and its hyperparameters, used by
 * the API, the policy and the evaluation CLI alike.
 */
import { z } from "zod";

export const AggregationSchema = z.enum(["last", "min", "prod", "mean"]);

const common = {
  aggregation: AggregationSchema.default("last"),
  temperature: z.number().min(0).max(2).default(0.8),
};

export const BestOfNSpecSchema = z.object({
  strategy: z.literal("best-of-n"),
  n: z.number().int().min(1).max(4096),
  selection: z.enum(["weighted", "best", "majority"]).default("weighted"),
  maxTokens: z.number().int().min(16).max(32768).default(1024),
  ...common,
});

const stepwise = {
  n: z.number().int().min(1).max(4096),
  /** M: children sampled from each kept prefix. */
  width: z.number().int().min(1).max(4096),
  /** k: temperature-0 rollout depth used to score a prefix; 0 is plain beam search. */
  lookahead: z.number().int().min(0).max(16).default(0),
  maxRounds: z.number().int().min(1).max(200).default(40),
  maxStepTokens: z.number().int().min(16).max(8192).default(256),
  ...common,
};

export const BeamSearchSpecSchema = z
  .object({ strategy: z.literal("beam-search"), ...stepwise })
  .refine((s) => s.width <= s.n && s.n % s.width === 0, {
    message: "beam search needs width M to divide n (N/M prefixes are kept each round)",
    path: ["width"],
  });

export const DvtsSpecSchema = z
  .object({ strategy: z.literal("dvts"), ...stepwise })
  .refine((s) => s.width <= s.n && s.n % s.width === 0, {
    message: "DVTS needs width M to divide n (n/M independent subtrees of M)",
    path: ["width"],
  });

export const RevisionsSpecSchema = z.object({
  strategy: z.literal("revisions"),
  /** s: attempts per chain (sequential). */
  sequential: z.number().int().min(1).max(1024),
  /** p: independent chains (parallel). */
  parallel: z.number().int().min(1).max(4096),
  selection: z.enum(["verifier", "majority"]).default("verifier"),
  maxTokens: z.number().int().min(16).max(32768).default(1024),
  ...common,
});

export const StrategySpecSchema = z.discriminatedUnion("strategy", [BestOfNSpecSchema, BeamSearchSpecSchema, DvtsSpecSchema, RevisionsSpecSchema]);

export type BestOfNSpec = z.output<typeof BestOfNSpecSchema>;
export type BeamSearchSpec = z.output<typeof BeamSearchSpecSchema>;
export type DvtsSpec = z.output<typeof DvtsSpecSchema>;
export type RevisionsSpec = z.output<typeof RevisionsSpecSchema>;
export type StrategySpec = z.output<typeof StrategySpecSchema>;
export type StrategySpecInput = z.input<typeof StrategySpecSchema>;

/** Generation budget a configuration spends, in the paper's units (method.md §2). */
export function generationCost(spec: StrategySpec): number {
  switch (spec.strategy) {
    case "best-of-n":
      return spec.n;
    case "beam-search":
    case "dvts":
      return spec.n * (spec.lookahead + 1);
    case "revisions":
      return spec.sequential * spec.parallel;
  }
}

/** A short stable label, e.g. `beam-search(n=16,M=4)`, used in reports and logs. */
export function describeSpec(spec: StrategySpec): string {
  switch (spec.strategy) {
    case "best-of-n":
      return `best-of-n(n=${spec.n},${spec.selection})`;
    case "beam-search":
    case "dvts":
      return `${spec.strategy}(n=${spec.n},M=${spec.width}${spec.lookahead ? `,k=${spec.lookahead}` : ""})`;
    case "revisions":
      return `revisions(s=${spec.sequential},p=${spec.parallel},${spec.selection})`;
  }
}
