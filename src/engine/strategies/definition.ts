/**
 * What a strategy module declares. Each strategy is one module exporting one `Strategy`; the registry
 * (`./index.ts`) derives the spec union, the dispatch, the API's validation messages and the evaluation
 * grid from the list of modules, so adding a strategy is one file plus one registry line.
 */
import { z } from "zod";
import type { Candidate, Problem, SolveOutcome, Work, WorkResults } from "../types";

export const AggregationSchema = z.enum(["last", "min", "prod", "mean"]);

/** Fields every strategy takes. */
export const commonFields = {
  aggregation: AggregationSchema.default("last"),
  temperature: z.number().min(0).max(2).default(0.8),
};

/** A strategy's spec schema: an object discriminated by its `strategy` literal (refinements allowed). */
export type SpecSchema = z.ZodObject<{ strategy: z.ZodLiteral<string> } & z.ZodRawShape>;

/** One parameter of an evaluation family, written `name=value` in a `--strategies` list. */
export interface GridParam {
  default: number;
  min: number;
  max: number;
  /** Whether `sqrt` (M = √N, square budgets only) is allowed. */
  sqrt?: boolean;
}

export type GridValues = Record<string, number | "sqrt">;

/** The configurations of a family at one budget: none when the budget is too small, an error when it cannot be spent exactly. */
export type GridConfigs = { ok: true; configs: { series: string; spec: unknown }[] } | { ok: false; error: string };

/**
 * A family of configurations the evaluation sweeps, e.g. `beam:M=4` or `lookahead:k=1`. `configs` gives the
 * specs (as input to the strategy's schema) that spend exactly a budget in the paper's generation units.
 */
export interface GridFamily {
  name: string;
  /** Parameters in the order they appear in the family's canonical name. */
  params: Record<string, GridParam>;
  /** Shorthands accepted on the command line, e.g. `beam-sqrt` for `beam:M=sqrt`. */
  aliases?: Record<string, GridValues>;
  label(values: GridValues): string;
  configs(values: GridValues, budget: number): GridConfigs;
}

export interface Strategy<Schema extends SpecSchema, State extends { spec: z.output<Schema> }> {
  name: z.output<Schema>["strategy"];
  schema: Schema;
  /** How the generation cost is computed, in the API's words, e.g. `N·(k+1)`. */
  costFormula: string;
  /** Generation budget the configuration spends, in the paper's units (method.md §2). */
  cost(spec: z.output<Schema>): number;
  /** A short stable label, e.g. `beam-search(n=16,M=4)`, used in reports and logs. */
  label(spec: z.output<Schema>): string;
  /** `given` are candidates already paid for (e.g. a difficulty probe's samples); a strategy may ignore them. */
  init(problem: Problem, spec: z.output<Schema>, seed: number, given: Candidate[]): State;
  plan(state: State): Work;
  absorb(state: State, results: WorkResults): State;
  /** The best answer from what has been absorbed so far (used when a solve must stop early). */
  conclude(state: State): SolveOutcome;
  /** The families the evaluation CLI sweeps for this strategy. */
  grid: GridFamily[];
  /**
   * How the strategy spends a generation budget N when a caller gives only N (the OpenAI-compatible models'
   * `reasoning_effort`): the spec's fields besides `strategy`, before validation.
   */
  preset(n: number): Record<string, unknown>;
}

/** Declare a strategy module (only for type inference). */
export function defineStrategy<Schema extends SpecSchema, State extends { spec: z.output<Schema> }>(
  s: Strategy<Schema, State>,
): Strategy<Schema, State> {
  return s;
}

/** A grid helper: one spec at the budget, or an error naming the family and the budget. */
export function square(budget: number): number | null {
  const m = Math.round(Math.sqrt(budget));
  return m >= 2 && m * m === budget ? m : null;
}
