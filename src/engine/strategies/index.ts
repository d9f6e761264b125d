/**
 * The strategy registry. Every strategy is one module (see `definition.ts`); everything that must know the
 * set of strategies — the spec union and its types, dispatch by name, cost and label, the API's cost
 * formulas, the evaluation grid — is derived from `STRATEGIES`. To add a strategy, write its module and add
 * it to this list.
 */
import { z } from "zod";
import type { Candidate, Problem, SolveOutcome, Work, WorkResults } from "../types";
import { beamSearch } from "./beamSearch";
import { bestOfN } from "./bestOfN";
import type { GridFamily } from "./definition";
import { dvts } from "./dvts";
import { revisions } from "./revisions";

export const STRATEGIES = [bestOfN, beamSearch, dvts, revisions] as const;

type Registered = (typeof STRATEGIES)[number];
type SchemasOf<T extends readonly Registered[]> = { -readonly [K in keyof T]: T[K]["schema"] };

function schemasOf<T extends readonly Registered[]>(list: T): SchemasOf<T> {
  return list.map((s) => s.schema) as SchemasOf<T>;
}

export const StrategySpecSchema = z.discriminatedUnion("strategy", schemasOf(STRATEGIES));

export type StrategySpec = z.output<typeof StrategySpecSchema>;
export type StrategySpecInput = z.input<typeof StrategySpecSchema>;
export type StrategyName = StrategySpec["strategy"];
export type StrategyState = ReturnType<Registered["init"]>;

/** A registered strategy with its types erased to the unions: dispatch by name is checked by the registry. */
interface AnyStrategy {
  name: StrategyName;
  costFormula: string;
  cost(spec: StrategySpec): number;
  label(spec: StrategySpec): string;
  init(problem: Problem, spec: StrategySpec, seed: number, given: Candidate[]): StrategyState;
  plan(state: StrategyState): Work;
  absorb(state: StrategyState, results: WorkResults): StrategyState;
  conclude(state: StrategyState): SolveOutcome;
  grid: GridFamily[];
  preset(n: number): Record<string, unknown>;
}

const byName = new Map<string, AnyStrategy>(STRATEGIES.map((s) => [s.name, s as unknown as AnyStrategy]));

export function strategyOf(name: StrategyName): AnyStrategy {
  const s = byName.get(name);
  if (!s) throw new Error(`unknown strategy "${name}"`);
  return s;
}

export function initStrategy(
  problem: Problem,
  spec: StrategySpec,
  seed: number,
  given: Candidate[] = [],
): StrategyState {
  return strategyOf(spec.strategy).init(problem, spec, seed, given);
}

export function planStrategy(state: StrategyState): Work {
  return strategyOf(state.spec.strategy).plan(state);
}

export function absorbStrategy(state: StrategyState, results: WorkResults): StrategyState {
  return strategyOf(state.spec.strategy).absorb(state, results);
}

/** The best answer from what the strategy has absorbed so far (used when a solve must stop early). */
export function concludeStrategy(state: StrategyState): SolveOutcome {
  return strategyOf(state.spec.strategy).conclude(state);
}

/** Generation budget a configuration spends, in the paper's units (method.md §2). */
export function generationCost(spec: StrategySpec): number {
  return strategyOf(spec.strategy).cost(spec);
}

/** A short stable label, e.g. `beam-search(n=16,M=4)`, used in reports and logs. */
export function describeSpec(spec: StrategySpec): string {
  return strategyOf(spec.strategy).label(spec);
}

/** Whether a configuration samples the configured larger model (an escalation arm). */
export function runsOnLargeModel(spec: StrategySpec): boolean {
  return spec.strategy === "best-of-n" && spec.model === "large";
}

/** Every strategy's evaluation families, in registry order. */
export const GRID_FAMILIES: readonly GridFamily[] = STRATEGIES.flatMap((s) => s.grid);

export { AggregationSchema } from "./definition";
export type { BestOfNSpec, BestOfNState } from "./bestOfN";
export type { BeamSearchSpec } from "./beamSearch";
export type { DvtsSpec } from "./dvts";
export type { RevisionsSpec, RevisionsState } from "./revisions";
export type { StepwiseState } from "./stepwiseSearch";
