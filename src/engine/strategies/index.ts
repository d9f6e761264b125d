/** One entry point over every strategy: the executor only ever sees these four functions. */
import type { Candidate, Problem, SolveOutcome, Work, WorkResults } from "../types";
import { absorbBestOfN, concludeBestOfN, initBestOfN, planBestOfN, type BestOfNState } from "./bestOfN";
import { absorbRevisions, concludeRevisions, initRevisions, planRevisions, type RevisionsState } from "./revisions";
import type { StrategySpec } from "./spec";
import { absorbStepwise, concludeStepwise, initStepwise, planStepwise, type StepwiseState } from "./stepwiseSearch";

export type StrategyState = BestOfNState | StepwiseState | RevisionsState;

export function initStrategy(problem: Problem, spec: StrategySpec, seed: number, given: Candidate[] = []): StrategyState {
  switch (spec.strategy) {
    case "best-of-n":
      return initBestOfN(problem, spec, seed, given);
    case "beam-search":
    case "dvts":
      return initStepwise(problem, spec, seed);
    case "revisions":
      return initRevisions(problem, spec, seed);
  }
}

export function planStrategy(state: StrategyState): Work {
  switch (state.spec.strategy) {
    case "best-of-n":
      return planBestOfN(state as BestOfNState);
    case "beam-search":
    case "dvts":
      return planStepwise(state as StepwiseState);
    case "revisions":
      return planRevisions(state as RevisionsState);
  }
}

export function absorbStrategy(state: StrategyState, results: WorkResults): StrategyState {
  switch (state.spec.strategy) {
    case "best-of-n":
      return absorbBestOfN(state as BestOfNState, results);
    case "beam-search":
    case "dvts":
      return absorbStepwise(state as StepwiseState, results);
    case "revisions":
      return absorbRevisions(state as RevisionsState, results);
  }
}

/** The best answer from what the strategy has absorbed so far (used when a solve must stop early). */
export function concludeStrategy(state: StrategyState): SolveOutcome {
  switch (state.spec.strategy) {
    case "best-of-n":
      return concludeBestOfN(state as BestOfNState);
    case "beam-search":
    case "dvts":
      return concludeStepwise(state as StepwiseState);
    case "revisions":
      return concludeRevisions(state as RevisionsState);
  }
}

export * from "./spec";
