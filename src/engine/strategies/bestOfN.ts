/**
 * Best-of-N (method.md §4): sample N whole solutions independently, score them with the verifier, select
 * by best-of-N weighted, plain best-of-N, or majority vote (which skips the verifier entirely).
 *
 * Adaptive (`stopAt`): N is a cap, not a target. Samples come in rounds (`chunk`, then doubling) and
 * sampling stops as soon as the vote is decisive: the posterior probability that the leading answer is
 * ahead of the second reaches `stopAt` (see ../stopping.ts). What is not sampled is not spent.
 *
 * Fixed N under a tight cap: when the executor shrinks the round to the samples whose worst case (every
 * completion at max_tokens) fits, they are scored and the rest are asked for in later rounds, as what they
 * actually cost leaves room. Unshrunk, N samples are one round, as before.
 */
import { z } from "zod";
import { mixSeeds } from "../random";
import { select, selectMajority } from "../selection";
import { leaderConfidence } from "../stopping";
import type { Candidate, Conversation, Problem, SolveOutcome, Work, WorkResults } from "../types";
import { asked, candidateFromCompletion, withScores } from "./candidates";
import { commonFields, defineStrategy } from "./definition";

export const BestOfNSpecSchema = z.object({
  strategy: z.literal("best-of-n"),
  n: z.number().int().min(1).max(4096),
  selection: z.enum(["weighted", "best", "majority"]).default("weighted"),
  maxTokens: z.number().int().min(16).max(32768).default(1024),
  /** Stop sampling once the leading answer is ahead with this posterior probability (adaptive); absent: always N. */
  stopAt: z.number().min(0.5).max(0.9999).optional(),
  /** First round's samples when adaptive; each later round doubles what has been sampled. */
  chunk: z.number().int().min(1).max(4096).default(4),
  /** Sample the configured larger model instead of the base generator (escalation, method.md §8). */
  model: z.literal("large").optional(),
  ...commonFields,
});

export type BestOfNSpec = z.output<typeof BestOfNSpecSchema>;

export interface BestOfNState {
  spec: BestOfNSpec;
  question: string;
  context?: Conversation;
  stop?: string[];
  seed: number;
  phase: "sample" | "score" | "done";
  candidates: Candidate[];
  /** Sampling requests made so far (each adaptive round is one). */
  rounds?: number;
  /** Candidates given at the start (a probe's samples), already paid for. */
  given?: number;
}

/**
 * `given` are candidates already paid for (e.g. a difficulty probe's samples); they count toward N. All of
 * them are kept, even beyond N: what was paid for is never thrown away.
 */
function init(problem: Problem, spec: BestOfNSpec, seed: number, given: Candidate[] = []): BestOfNState {
  const candidates = [...given];
  return {
    spec,
    question: problem.question,
    ...asked(problem),
    seed,
    phase: candidates.length < spec.n ? "sample" : "score",
    candidates,
    ...(candidates.length ? { given: candidates.length } : {}),
  };
}

function plan(state: BestOfNState): Work {
  const { spec } = state;
  if (state.phase === "sample") {
    const left = spec.n - state.candidates.length;
    const n = spec.stopAt === undefined ? left : Math.min(left, Math.max(spec.chunk, state.candidates.length));
    const round = state.rounds ?? 0;
    return {
      kind: "generate",
      generations: n,
      requests: [
        {
          role: spec.model === "large" ? "large" : "generator",
          question: state.question,
          ...asked(state),
          prefix: [],
          n,
          temperature: spec.temperature,
          oneStep: false,
          maxTokens: spec.maxTokens,
          // The first round draws what a fixed-N run would draw first; later rounds, and any round after given
          // candidates (which a provider would otherwise draw again from the same seed), draw fresh samples.
          seed:
            round === 0 && !state.given ? mixSeeds(state.seed, 1) : mixSeeds(state.seed, 1, round, state.given ?? 0),
        },
      ],
    };
  }
  if (state.phase === "score") {
    const unscored = state.candidates.filter((c) => c.stepScores === undefined && c.steps.length > 0);
    if (spec.selection !== "majority" && unscored.length > 0) {
      return {
        kind: "score",
        requests: unscored.map((c) => ({ question: state.question, ...asked(state), steps: c.steps })),
      };
    }
  }
  return { kind: "done", outcome: conclude(state) };
}

function absorb(state: BestOfNState, results: WorkResults): BestOfNState {
  if (results.kind === "generate") {
    const fresh = results.responses.flatMap((r) => r.completions.map(candidateFromCompletion));
    const sampled = { ...state, candidates: [...state.candidates, ...fresh], rounds: (state.rounds ?? 0) + 1 };
    // Majority needs no scores, and a round of empty completions has nothing to score: decide right after
    // sampling whether to sample on.
    if (state.spec.selection === "majority" || fresh.every((c) => c.steps.length === 0))
      return { ...sampled, phase: nextPhase(sampled, fresh.length) };
    return { ...sampled, phase: "score" };
  }
  let next = 0;
  const candidates = state.candidates.map((c) => {
    if (c.stepScores !== undefined || c.steps.length === 0) return c;
    const response = results.responses[next++];
    return response ? withScores(c, response, state.spec.aggregation) : c;
  });
  const scored = { ...state, candidates };
  return { ...scored, phase: nextPhase(scored, Infinity) };
}

/**
 * After a round: done at N or when a round came back empty; an adaptive solve also when the vote is
 * decisive; else sample on (a fixed-N round falls short of N only when a cap shrank it).
 */
function nextPhase(state: BestOfNState, lastRoundSize: number): BestOfNState["phase"] {
  const { spec } = state;
  if (state.candidates.length >= spec.n || lastRoundSize === 0) return "done";
  if (spec.stopAt === undefined) return "sample";
  const weighted = spec.selection !== "majority";
  const voters = weighted ? state.candidates.filter((c) => c.stepScores !== undefined) : state.candidates;
  return leaderConfidence(voters, weighted) >= (spec.stopAt as number) ? "done" : "sample";
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
  label: (spec) =>
    `best-of-n(n=${spec.n},${spec.selection}${spec.stopAt === undefined ? "" : `,stop=${spec.stopAt},chunk=${spec.chunk}`}${spec.model ? `,model=${spec.model}` : ""})`,
  init,
  plan,
  absorb,
  conclude,
  preset: (n) => ({ n }),
  grid: [
    {
      name: "best-of-n",
      params: {},
      aliases: { bon: {} },
      label: () => "Best-of-N weighted",
      configs: (_, budget) => ({
        ok: true,
        configs: [{ series: "Best-of-N weighted", spec: { strategy: "best-of-n", n: budget, selection: "weighted" } }],
      }),
    },
    {
      name: "best-of-n-adaptive",
      params: { c: { default: 95, min: 50, max: 99 } },
      label: (v) => `Best-of-N weighted, adaptive (stop at ${v.c}%)`,
      configs: (v, budget) => ({
        ok: true,
        configs: [
          {
            series: `Best-of-N weighted, adaptive (stop at ${v.c}%)`,
            spec: { strategy: "best-of-n", n: budget, selection: "weighted", stopAt: Number(v.c) / 100, chunk: 4 },
          },
        ],
      }),
    },
    {
      name: "majority",
      params: {},
      label: () => "Majority",
      configs: (_, budget) => ({
        ok: true,
        configs: [{ series: "Majority", spec: { strategy: "best-of-n", n: budget, selection: "majority" } }],
      }),
    },
    {
      // Escalation candidates (method.md §8): the larger model, greedy or with a few samples. Budgets above `max`
      // give none: where many large-model samples would be needed, test-time compute on the small one is the question.
      name: "large",
      params: { max: { default: 16, min: 1, max: 4096 } },
      label: () => "Larger model, best-of-N weighted",
      configs: (v, budget) => ({
        ok: true,
        configs:
          budget > Number(v.max)
            ? []
            : [
                {
                  series: "Larger model, best-of-N weighted",
                  spec: { strategy: "best-of-n", n: budget, selection: "weighted", model: "large" },
                },
              ],
      }),
    },
    {
      name: "large-majority",
      params: { max: { default: 16, min: 1, max: 4096 } },
      label: () => "Larger model, majority",
      configs: (v, budget) => ({
        ok: true,
        configs:
          budget > Number(v.max)
            ? []
            : [
                {
                  series: "Larger model, majority",
                  spec: { strategy: "best-of-n", n: budget, selection: "majority", model: "large" },
                },
              ],
      }),
    },
  ],
});
