/**
 * Best-of-N (method.md §4): sample N whole solutions independently, score them with the verifier, select
 * by best-of-N weighted, plain best-of-N, or majority vote (which skips the verifier entirely).
 */
import { z } from "zod";
import { mixSeeds } from "../random";
import { select, selectMajority } from "../selection";
import type { Candidate, Problem, SolveOutcome, Work, WorkResults } from "../types";
import { candidateFromCompletion, withScores } from "./candidates";
import { commonFields, defineStrategy } from "./definition";

export const BestOfNSpecSchema = z.object({
  strategy: z.literal("best-of-n"),
  n: z.number().int().min(1).max(4096),
  selection: z.enum(["weighted", "best", "majority"]).default("weighted"),
  maxTokens: z.number().int().min(16).max(32768).default(1024),
  ...commonFields,
});

export type BestOfNSpec = z.output<typeof BestOfNSpecSchema>;

export interface BestOfNState {
  spec: BestOfNSpec;
  question: string;
  seed: number;
  phase: "sample" | "score" | "done";
  candidates: Candidate[];
}

/** `given` are candidates already paid for (e.g. a difficulty probe's samples); they count toward N. */
function init(problem: Problem, spec: BestOfNSpec, seed: number, given: Candidate[] = []): BestOfNState {
  const candidates = given.slice(0, spec.n);
  return { spec, question: problem.question, seed, phase: candidates.length < spec.n ? "sample" : "score", candidates };
}

function plan(state: BestOfNState): Work {
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
  return { kind: "done", outcome: conclude(state) };
}

function absorb(state: BestOfNState, results: WorkResults): BestOfNState {
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

/**
 * Select from what is known now. Candidates a tight budget left unscored have no verifier weight: the vote
 * is among the scored ones, or by majority when none was scored.
 */
function conclude(state: BestOfNState): SolveOutcome {
  const scored = state.candidates.filter((c) => c.stepScores !== undefined);
  if (state.spec.selection === "majority" || scored.length === 0) return selectMajority(state.candidates);
  const outcome = select(state.spec.selection, scored);
  return { ...outcome, candidates: state.candidates };
}

export const bestOfN = defineStrategy({
  name: "best-of-n",
  schema: BestOfNSpecSchema,
  costFormula: "N",
  cost: (spec) => spec.n,
  label: (spec) => `best-of-n(n=${spec.n},${spec.selection})`,
  init,
  plan,
  absorb,
  conclude,
  grid: [
    {
      name: "best-of-n",
      params: {},
      aliases: { bon: {} },
      label: () => "Best-of-N weighted",
      configs: (_, budget) => ({ ok: true, configs: [{ series: "Best-of-N weighted", spec: { strategy: "best-of-n", n: budget, selection: "weighted" } }] }),
    },
    {
      name: "majority",
      params: {},
      label: () => "Majority",
      configs: (_, budget) => ({ ok: true, configs: [{ series: "Majority", spec: { strategy: "best-of-n", n: budget, selection: "majority" } }] }),
    },
  ],
});
