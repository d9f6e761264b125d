/**
 * Best-of-N (method.md §4): sample N whole solutions independently, score them with the verifier, select
 * by best-of-N weighted, plain best-of-N, or majority vote (which skips the verifier entirely).
 */
import { mixSeeds } from "../random";
import { select, selectMajority } from "../selection";
import type { Candidate, Problem, SolveOutcome, Work, WorkResults } from "../types";
import { candidateFromCompletion, withScores } from "./candidates";
import type { BestOfNSpec } from "./spec";

export interface BestOfNState {
  spec: BestOfNSpec;
  question: string;
  seed: number;
  phase: "sample" | "score" | "done";
  candidates: Candidate[];
}

/** `given` are candidates already paid for (e.g. a difficulty probe's samples); they count toward N. */
export function initBestOfN(problem: Problem, spec: BestOfNSpec, seed: number, given: Candidate[] = []): BestOfNState {
  const candidates = given.slice(0, spec.n);
  return { spec, question: problem.question, seed, phase: candidates.length < spec.n ? "sample" : "score", candidates };
}

export function planBestOfN(state: BestOfNState): Work {
  const { spec } = state;
  if (state.phase === "sample") {
    const n = spec.n - state.candidates.length;
    return {
      kind: "generate",
      generations: n,
      requests: [
        {
          role: "generator",
          question: state.question,
          prefix: [],
          n,
          temperature: spec.temperature,
          oneStep: false,
          maxTokens: spec.maxTokens,
          seed: mixSeeds(state.seed, 1),
        },
      ],
    };
  }
  if (state.phase === "score") {
    const unscored = state.candidates.filter((c) => c.stepScores === undefined && c.steps.length > 0);
    if (spec.selection !== "majority" && unscored.length > 0) {
      return { kind: "score", requests: unscored.map((c) => ({ question: state.question, steps: c.steps })) };
    }
  }
  return { kind: "done", outcome: concludeBestOfN(state) };
}

export function absorbBestOfN(state: BestOfNState, results: WorkResults): BestOfNState {
  if (results.kind === "generate") {
    const fresh = results.responses.flatMap((r) => r.completions.map(candidateFromCompletion));
    return { ...state, phase: "score", candidates: [...state.candidates, ...fresh] };
  }
  let next = 0;
  const candidates = state.candidates.map((c) => {
    if (c.stepScores !== undefined || c.steps.length === 0) return c;
    const response = results.responses[next++];
    return response ? withScores(c, response, state.spec.aggregation) : c;
  });
  return { ...state, phase: "done", candidates };
}

/** Select from what is known now. Without scores (budget ran out before scoring) the vote is by majority. */
export function concludeBestOfN(state: BestOfNState): SolveOutcome {
  const scored = state.candidates.every((c) => c.stepScores !== undefined || c.steps.length === 0);
  if (state.spec.selection === "majority" || !scored) return selectMajority(state.candidates);
  return select(state.spec.selection, state.candidates);
}
