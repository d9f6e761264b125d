/**
 * Revisions (method.md §5): p parallel chains of s attempts. Each new attempt is written by the revision
 * model with the chain's most recent attempts (at most four) in context. All attempts of a step are
 * generated in one batch; the verifier scores every attempt at the end in one batch. Selection is
 * verifier-hierarchical (weighted within each chain, then across chains) or a pooled majority over every
 * attempt of every chain.
 */
import { z } from "zod";
import { joinSteps } from "../solutionSteps";
import { mixSeeds } from "../random";
import { selectHierarchical, selectMajority } from "../selection";
import { REVISION_CONTEXT } from "../prompts";
import type { Candidate, Conversation, GenerateRequest, Problem, SolveOutcome, Work, WorkResults } from "../types";
import { asked, candidateFromCompletion, withScores } from "./candidates";
import { commonFields, defineStrategy, type GridConfigs, type GridFamily } from "./definition";

export const RevisionsSpecSchema = z.object({
  strategy: z.literal("revisions"),
  /** s: attempts per chain (sequential). */
  sequential: z.number().int().min(1).max(1024),
  /** p: independent chains (parallel). */
  parallel: z.number().int().min(1).max(4096),
  selection: z.enum(["verifier", "majority"]).default("verifier"),
  maxTokens: z.number().int().min(16).max(32768).default(1024),
  ...commonFields,
});

export type RevisionsSpec = z.output<typeof RevisionsSpecSchema>;

export interface RevisionsState {
  spec: RevisionsSpec;
  question: string;
  context?: Conversation;
  stop?: string[];
  seed: number;
  phase: "generate" | "score" | "done";
  /** Attempts per chain, oldest first. */
  chains: Candidate[][];
  /**
   * First attempts are asked for in rounds under a tight cap: when the executor shrinks the first step to the
   * samples whose worst case fits, the other chains are opened in later rounds, as what the attempts actually
   * cost leaves room (as best-of-N does). `opened`: no more first attempts will be asked for.
   */
  firstRounds?: number;
  opened?: boolean;
  /**
   * Candidates given at the start, already paid for (an auto solve's probe samples, scored by the PRM). Not
   * revised (the chains' first attempts are the reviser's own, as the policy measured them), but they join
   * the final selection as chains of one attempt, so a better one is never lost.
   */
  given?: Candidate[];
}

function init(problem: Problem, spec: RevisionsSpec, seed: number, given: Candidate[] = []): RevisionsState {
  return {
    spec,
    question: problem.question,
    ...asked(problem),
    seed,
    phase: "generate",
    chains: [],
    ...(given.length ? { given } : {}),
  };
}

function plan(state: RevisionsState): Work {
  const { spec } = state;
  if (state.phase === "generate") {
    const depth = state.chains[0]?.length ?? 0;
    const base = {
      role: "reviser" as const,
      question: state.question,
      ...asked(state),
      prefix: [],
      temperature: spec.temperature,
      oneStep: false,
      maxTokens: spec.maxTokens,
    };
    if (depth === 0 || opening(state)) {
      // First attempts share one prompt: a single request for the chains not yet opened (all p at first).
      const round = state.firstRounds ?? 0;
      const n = spec.parallel - state.chains.length;
      return {
        kind: "generate",
        generations: n,
        requests: [{ ...base, n, seed: round === 0 ? mixSeeds(state.seed, 0) : mixSeeds(state.seed, 0, round) }],
      };
    }
    const requests: GenerateRequest[] = state.chains.map((chain, c) => ({
      ...base,
      n: 1,
      attempts: chain.slice(-REVISION_CONTEXT).map((a) => joinSteps(a.steps)),
      seed: mixSeeds(state.seed, depth, c),
    }));
    return { kind: "generate", generations: requests.length, requests };
  }
  if (state.phase === "score") {
    const requests = unscored(state).map((c) => ({ question: state.question, ...asked(state), steps: c.steps }));
    if (requests.length > 0) return { kind: "score", requests };
  }
  return { kind: "done", outcome: conclude(state) };
}

/**
 * Whether the next generate step asks for first attempts: until every chain is open or a round came back
 * empty. A state stored before rounds existed (no `firstRounds`) with attempts made is past its first step.
 */
function opening(state: RevisionsState): boolean {
  if (state.opened) return false;
  if (state.firstRounds === undefined && (state.chains[0]?.length ?? 0) > 0) return false;
  return state.chains.length < state.spec.parallel;
}

function unscored(state: RevisionsState): Candidate[] {
  return state.chains.flat().filter((c) => c.stepScores === undefined && c.steps.length > 0);
}

function absorb(state: RevisionsState, results: WorkResults): RevisionsState {
  const { spec } = state;
  if (results.kind === "generate") {
    let chains: Candidate[][];
    if (opening(state)) {
      // A round of first attempts: open a chain for each; another round only if a cap shrank this one.
      const first = results.responses[0]?.completions ?? [];
      const start = state.chains.length;
      chains = [
        ...state.chains,
        ...first.map((c, i) => [{ ...candidateFromCompletion(c), chain: start + i, position: 0 }]),
      ];
      const firstRounds = (state.firstRounds ?? 0) + 1;
      if (chains.length < spec.parallel && first.length > 0)
        return { ...state, chains, firstRounds, phase: "generate" };
      const phase = 1 < spec.sequential ? "generate" : spec.selection === "verifier" ? "score" : "done";
      return { ...state, chains, firstRounds, opened: true, phase: chains.length ? phase : "done" };
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

/**
 * Select from what is known now. Attempts a tight budget left unscored have no verifier weight: selection is
 * among the scored ones, or a pooled majority when none was scored.
 */
function conclude(state: RevisionsState): SolveOutcome {
  const given = (state.given ?? []).map((c, i) => ({ ...c, chain: state.spec.parallel + i, position: 0 }));
  const all = [...state.chains.flat(), ...given];
  const scored = all.filter((c) => c.stepScores !== undefined);
  if (state.spec.selection === "majority" || scored.length === 0) return selectMajority(all);
  return { ...selectHierarchical(scored), candidates: all };
}

/** The paper's grid of sequential:parallel splits s·p = B, from fully parallel to fully sequential (powers of two). */
function splits(label: string, selection: "verifier" | "majority", budget: number): GridConfigs {
  const sequential = new Set<number>();
  for (let s = 1; s <= budget; s *= 2) if (budget % s === 0) sequential.add(s);
  sequential.add(budget);
  const configs = [...sequential]
    .sort((a, b) => a - b)
    .map((s) => ({
      series: `${label} s:p=${s}:${budget / s}`,
      spec: { strategy: "revisions", sequential: s, parallel: budget / s, selection },
    }));
  return { ok: true, configs };
}

function family(name: string, label: string, selection: "verifier" | "majority"): GridFamily {
  return { name, params: {}, label: () => label, configs: (_, budget) => splits(label, selection, budget) };
}

export const revisions = defineStrategy({
  name: "revisions",
  schema: RevisionsSpecSchema,
  costFormula: "s·p",
  cost: (spec) => spec.sequential * spec.parallel,
  label: (spec) => `revisions(s=${spec.sequential},p=${spec.parallel},${spec.selection})`,
  init,
  plan,
  absorb,
  conclude,
  // s·p = N, balanced for any power of two: sequential 2^ceil(log2(N)/2), the rest in parallel chains.
  preset: (n) => {
    const sequential = 2 ** Math.ceil(Math.log2(n) / 2);
    return { sequential, parallel: n / sequential };
  },
  grid: [
    family("revisions", "Revisions (verifier)", "verifier"),
    family("revisions-majority", "Revisions (majority)", "majority"),
  ],
});
