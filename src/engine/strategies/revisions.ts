/**
 * Revisions (method.md §5): p parallel chains of s attempts. Each new attempt is written by the revision
 * model with the chain's most recent attempts (at most four) in context. All attempts of a step are
 * generated in one batch; the verifier scores every attempt at the end in one batch. Selection is
 * verifier-hierarchical (weighted within each chain, then across chains) or a pooled majority over every
 * attempt of every chain.
 */
import { joinSteps } from "../steps";
import { mixSeeds } from "../random";
import { selectHierarchical, selectMajority } from "../selection";
import { REVISION_CONTEXT } from "../prompts";
import type { Candidate, GenerateRequest, Problem, SolveOutcome, Work, WorkResults } from "../types";
import { candidateFromCompletion, withScores } from "./candidates";
import type { RevisionsSpec } from "./spec";

export interface RevisionsState {
  spec: RevisionsSpec;
  question: string;
  seed: number;
  phase: "generate" | "score" | "done";
  /** Attempts per chain, oldest first. */
  chains: Candidate[][];
}

export function initRevisions(problem: Problem, spec: RevisionsSpec, seed: number): RevisionsState {
  return { spec, question: problem.question, seed, phase: "generate", chains: [] };
}

export function planRevisions(state: RevisionsState): Work {
  const { spec } = state;
  if (state.phase === "generate") {
    const depth = state.chains[0]?.length ?? 0;
    const base = { role: "reviser" as const, question: state.question, prefix: [], temperature: spec.temperature, oneStep: false, maxTokens: spec.maxTokens };
    if (depth === 0) {
      // First attempts share one prompt: a single request with n = p.
      return { kind: "generate", generations: spec.parallel, requests: [{ ...base, n: spec.parallel, seed: mixSeeds(state.seed, 0) }] };
    }
    const requests: GenerateRequest[] = state.chains.map((chain, c) => ({
      ...base,
      n: 1,
      attempts: chain.slice(-REVISION_CONTEXT).map((a) => joinSteps(a.steps)),
      seed: mixSeeds(state.seed, depth, c),
    }));
    return { kind: "generate", generations: spec.parallel, requests };
  }
  if (state.phase === "score") {
    const requests = unscored(state).map((c) => ({ question: state.question, steps: c.steps }));
    if (requests.length > 0) return { kind: "score", requests };
  }
  return { kind: "done", outcome: concludeRevisions(state) };
}

function unscored(state: RevisionsState): Candidate[] {
  return state.chains.flat().filter((c) => c.stepScores === undefined && c.steps.length > 0);
}

export function absorbRevisions(state: RevisionsState, results: WorkResults): RevisionsState {
  const { spec } = state;
  if (results.kind === "generate") {
    let chains: Candidate[][];
    if (state.chains.length === 0) {
      const first = results.responses[0]?.completions ?? [];
      chains = first.map((c, i) => [{ ...candidateFromCompletion(c), chain: i, position: 0 }]);
    } else {
      chains = state.chains.map((chain, i) => {
        const c = results.responses[i]?.completions[0];
        if (!c) return chain;
        return [...chain, { ...candidateFromCompletion(c), chain: i, position: chain.length }];
      });
    }
    const depth = chains[0]?.length ?? 0;
    const phase = depth < spec.sequential ? "generate" : spec.selection === "verifier" ? "score" : "done";
    return { ...state, chains, phase };
  }
  let r = 0;
  const chains = state.chains.map((chain) =>
    chain.map((c) => {
      if (c.stepScores !== undefined || c.steps.length === 0) return c;
      const response = results.responses[r++];
      return response ? withScores(c, response, spec.aggregation) : c;
    }),
  );
  return { ...state, chains, phase: "done" };
}

/** Select from what is known now; if the attempts were never scored, fall back to the pooled majority. */
export function concludeRevisions(state: RevisionsState): SolveOutcome {
  const all = state.chains.flat();
  if (state.spec.selection === "majority" || unscored(state).length > 0) return selectMajority(all);
  return selectHierarchical(all);
}
