/**
 * Step-wise search against a process reward model: beam search, lookahead search and DVTS (method.md §4)
 * are one algorithm over independent groups of beams.
 *
 * Each round: every kept prefix of a group is extended by one sampled step (M children per prefix);
 * with lookahead k > 0 each unfinished child is rolled out k further steps at temperature 0; every child
 * is scored by the PRM (on the rollout when there is one); finished children leave the pool as candidates;
 * the top ceil(slots left / M) unfinished children are kept for the next round.
 *
 * - beam search: one group of N slots, keeping the top N/M prefixes;
 * - DVTS: N/M groups of M slots, each keeping its single best prefix.
 *
 * Finished beams leave the pool and keep their slot, so the search ends with N candidates (or when
 * every group has filled its slots, ran out of beams, or reached the round limit).
 */
import { z } from "zod";
import { mixSeeds } from "../random";
import { selectWeighted } from "../selection";
import { aggregateScores, splitSteps } from "../solutionSteps";
import type { Candidate, Conversation, GenerateRequest, Problem, SolveOutcome, Work, WorkResults } from "../types";
import { extractAnswer } from "../answers";
import { asked, isFinalStep } from "./candidates";
import { commonFields } from "./definition";

/** The spec fields beam search and DVTS share. */
export const stepwiseFields = {
  n: z.number().int().min(1).max(4096),
  /** M: children sampled from each kept prefix. */
  width: z.number().int().min(1).max(4096),
  /** k: temperature-0 rollout depth used to score a prefix; 0 is plain beam search. */
  lookahead: z.number().int().min(0).max(16).default(0),
  maxRounds: z.number().int().min(1).max(200).default(40),
  maxStepTokens: z.number().int().min(16).max(8192).default(256),
  ...commonFields,
};

/** The fields as parsed, whatever the strategy literal. */
export interface StepwiseSpec {
  strategy: "beam-search" | "dvts";
  n: number;
  width: number;
  lookahead: number;
  maxRounds: number;
  maxStepTokens: number;
  aggregation: "last" | "min" | "prod" | "mean";
  temperature: number;
}

/** N·(k+1): N beams, each prefix scored through a k-step rollout (method.md §2). */
export function stepwiseCost(spec: StepwiseSpec): number {
  return spec.n * (spec.lookahead + 1);
}

export function stepwiseLabel(spec: StepwiseSpec): string {
  return `${spec.strategy}(n=${spec.n},M=${spec.width}${spec.lookahead ? `,k=${spec.lookahead}` : ""})`;
}

interface Beam {
  steps: string[];
  finished: boolean;
  /** Temperature-0 continuation used only to score this beam (lookahead). */
  rollout: string[];
  rolloutDone: boolean;
  stepScores?: number[];
  score?: number;
  /** Children to sample from this beam in the next expansion. */
  children?: number;
}

interface Group {
  slots: number;
  /** Prefixes to expand this round (each with its `children` count). */
  kept: Beam[];
  /** Beams produced this round, awaiting rollout and scoring. */
  fresh: Beam[];
  finished: Candidate[];
  done: boolean;
}

export interface StepwiseState<Spec extends StepwiseSpec = StepwiseSpec> {
  spec: Spec;
  question: string;
  context?: Conversation;
  stop?: string[];
  seed: number;
  round: number;
  phase: "expand" | "rollout" | "score" | "done";
  rolloutDepth: number;
  charged: boolean;
  groups: Group[];
  /**
   * Candidates given at the start, already paid for (an auto solve's probe samples, scored by the PRM): the
   * search does not extend them, but they join the final selection, so a better one is never lost.
   */
  given?: Candidate[];
}

/** DVTS splits the N slots into N/M independent groups of M; beam search is one group of N. */
export function initStepwise<Spec extends StepwiseSpec>(
  problem: Problem,
  spec: Spec,
  seed: number,
  given: Candidate[] = [],
): StepwiseState<Spec> {
  const groupCount = spec.strategy === "dvts" ? spec.n / spec.width : 1;
  const slots = spec.n / groupCount;
  const groups: Group[] = [];
  for (let g = 0; g < groupCount; g++) {
    groups.push({
      slots,
      kept: [{ steps: [], finished: false, rollout: [], rolloutDone: true, children: slots }],
      fresh: [],
      finished: [],
      done: false,
    });
  }
  return {
    spec,
    question: problem.question,
    ...asked(problem),
    seed,
    round: 0,
    phase: "expand",
    rolloutDepth: 0,
    charged: false,
    groups,
    ...(given.length ? { given } : {}),
  };
}

export function planStepwise(state: StepwiseState): Work {
  const { spec } = state;
  if (state.phase === "expand") {
    const requests: GenerateRequest[] = [];
    state.groups.forEach((group, g) => {
      if (group.done) return;
      group.kept.forEach((beam, b) => {
        requests.push({
          role: "generator",
          question: state.question,
          ...asked(state),
          prefix: beam.steps,
          n: beam.children ?? 0,
          temperature: spec.temperature,
          oneStep: true,
          maxTokens: spec.maxStepTokens,
          seed: mixSeeds(state.seed, state.round, g, b),
        });
      });
    });
    // Trajectories are paid for when the search starts: N beams, each scored through a k-step rollout.
    return { kind: "generate", requests, generations: state.charged ? 0 : stepwiseCost(spec) };
  }
  if (state.phase === "rollout") {
    const requests: GenerateRequest[] = [];
    forEachRolling(state, (beam) => {
      requests.push({
        role: "generator",
        question: state.question,
        ...asked(state),
        prefix: [...beam.steps, ...beam.rollout],
        n: 1,
        temperature: 0,
        oneStep: true,
        maxTokens: spec.maxStepTokens,
        seed: mixSeeds(state.seed, state.round, 0x5eed, state.rolloutDepth),
      });
    });
    return { kind: "generate", requests, generations: 0 };
  }
  if (state.phase === "score") {
    const requests = [];
    for (const group of state.groups) {
      for (const beam of group.fresh)
        requests.push({ question: state.question, ...asked(state), steps: [...beam.steps, ...beam.rollout] });
    }
    return { kind: "score", requests };
  }
  return { kind: "done", outcome: concludeStepwise(state) };
}

function forEachRolling(state: StepwiseState, fn: (beam: Beam) => void): void {
  for (const group of state.groups) for (const beam of group.fresh) if (!beam.rolloutDone) fn(beam);
}

function stepsOf(text: string): string[] {
  return splitSteps(text);
}

/**
 * A copy of the state that absorbing may change without touching the original (the caller may have stored
 * it): the groups and their lists, and the fresh beams it fills in. Step arrays are never changed in place,
 * so they are shared; a deep copy of every prefix each round was most of beam search's CPU time.
 */
function copyForAbsorb<Spec extends StepwiseSpec>(state: StepwiseState<Spec>): StepwiseState<Spec> {
  return {
    ...state,
    groups: state.groups.map((g) => ({
      ...g,
      kept: [...g.kept],
      finished: [...g.finished],
      fresh: g.fresh.map((b) => ({ ...b, rollout: [...b.rollout] })),
    })),
  };
}

export function absorbStepwise<Spec extends StepwiseSpec>(
  state: StepwiseState<Spec>,
  results: WorkResults,
): StepwiseState<Spec> {
  const next = copyForAbsorb(state);
  const { spec } = next;
  if (next.phase === "expand") {
    if (results.kind !== "generate") throw new Error("expected generation results");
    let r = 0;
    for (const group of next.groups) {
      if (group.done) continue;
      group.fresh = [];
      for (const parent of group.kept) {
        const response = results.responses[r++];
        for (const c of response?.completions ?? []) {
          const added = stepsOf(c.text);
          const steps = [...parent.steps, ...added];
          const last = added[added.length - 1];
          // An empty continuation means the model ended without more steps: the beam is finished.
          const finished = last === undefined || isFinalStep(last);
          group.fresh.push({ steps, finished, rollout: [], rolloutDone: finished || spec.lookahead === 0 });
        }
      }
      group.kept = [];
    }
    next.charged = true;
    next.rolloutDepth = 0;
    next.phase = spec.lookahead > 0 && anyRolling(next) ? "rollout" : "score";
    return next;
  }
  if (next.phase === "rollout") {
    if (results.kind !== "generate") throw new Error("expected generation results");
    let r = 0;
    forEachRolling(next, (beam) => {
      const text = results.responses[r++]?.completions[0]?.text ?? "";
      const added = stepsOf(text);
      beam.rollout.push(...added);
      const last = added[added.length - 1];
      if (last === undefined || isFinalStep(last)) beam.rolloutDone = true;
    });
    next.rolloutDepth += 1;
    if (next.rolloutDepth >= spec.lookahead) forEachRolling(next, (beam) => (beam.rolloutDone = true));
    next.phase = anyRolling(next) ? "rollout" : "score";
    return next;
  }
  if (next.phase === "score") {
    if (results.kind !== "score") throw new Error("expected score results");
    let r = 0;
    const lastRound = next.round + 1 >= spec.maxRounds;
    for (const group of next.groups) {
      const pool: Beam[] = [];
      for (const beam of group.fresh) {
        const scores = results.responses[r++]?.scores ?? [];
        beam.stepScores = scores.slice(0, beam.steps.length);
        beam.score = aggregateScores(scores, spec.aggregation);
        if (beam.finished) group.finished.push(toCandidate(beam, spec));
        else pool.push(beam);
      }
      group.fresh = [];
      const left = group.slots - group.finished.length;
      if (left <= 0 || pool.length === 0 || lastRound) {
        group.done = true;
        group.kept = pool; // unfinished at the end: kept only to report them
        continue;
      }
      // Identical prefixes would only spend several slots on one path (the reference implementation filters
      // them too): keep one of each, then the top ceil(left / M) by score (earlier beam on ties), and share
      // the slots left evenly among them.
      const seen = new Set<string>();
      const unique = pool.filter((b) => {
        const key = b.steps.join("\u0000");
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      });
      const order = unique.map((_, i) => i).sort((a, b) => (unique[b]!.score ?? 0) - (unique[a]!.score ?? 0) || a - b);
      const keep = Math.min(Math.ceil(left / spec.width), unique.length);
      group.kept = order.slice(0, keep).map((i, j) => {
        const beam = unique[i] as Beam;
        const children = Math.floor(left / keep) + (j < left % keep ? 1 : 0);
        return { steps: beam.steps, finished: false, rollout: [], rolloutDone: true, score: beam.score, children };
      });
    }
    next.round += 1;
    next.phase = next.groups.every((g) => g.done) ? "done" : "expand";
    return next;
  }
  return next;
}

function anyRolling(state: StepwiseState): boolean {
  return state.groups.some((g) => g.fresh.some((b) => !b.rolloutDone));
}

function toCandidate(beam: Beam, spec: StepwiseSpec): Candidate {
  const last = beam.steps[beam.steps.length - 1];
  const stepScores = beam.stepScores ?? [];
  return {
    steps: beam.steps,
    answer: last === undefined ? null : extractAnswer(last),
    stepScores,
    score: aggregateScores(stepScores, spec.aggregation),
  };
}

/** Best-of-N weighted over the finished beams and any given candidates; beams still unfinished are reported without an answer. */
export function concludeStepwise(state: StepwiseState): SolveOutcome {
  const candidates: Candidate[] = [];
  for (const g of state.groups) candidates.push(...g.finished);
  candidates.push(...(state.given ?? []));
  for (const g of state.groups) {
    for (const beam of g.fresh) {
      // Finished this round but never scored (the solve stopped first): a vote of zero weight.
      if (beam.finished) candidates.push({ ...toCandidate(beam, state.spec), score: 0 });
    }
    for (const beam of [...g.kept, ...g.fresh]) {
      if (beam.finished) continue;
      candidates.push({ steps: beam.steps, answer: null, ...(beam.stepScores ? { stepScores: beam.stepScores } : {}) });
    }
  }
  return selectWeighted(candidates);
}

/** The registry members beam search and DVTS share: one algorithm under their own schema and grid. */
export const stepwiseMachine = {
  costFormula: "N·(k+1) with lookahead k",
  cost: stepwiseCost,
  label: stepwiseLabel,
  init: initStepwise,
  plan: planStepwise,
  absorb: absorbStepwise,
  conclude: concludeStepwise,
};
