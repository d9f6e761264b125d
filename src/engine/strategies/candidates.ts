/** Turning model output into candidates, shared by every strategy. */
import { extractAnswer } from "../answers";
import { aggregateScores, splitSteps, type Aggregation } from "../solutionSteps";
import type { Candidate, Completion, Conversation, ScoreResponse } from "../types";

/** A whole-solution completion as a candidate. A solution cut by max_tokens keeps a boxed answer only if one was written. */
export function candidateFromCompletion(c: Completion): Candidate {
  const steps = splitSteps(c.text);
  const last = steps[steps.length - 1];
  return { steps, answer: last === undefined ? null : (extractAnswer(last) ?? extractAnswer(c.text)) };
}

/** Attach verifier scores; the number of scores must match the steps (providers are checked for this). */
export function withScores(c: Candidate, response: ScoreResponse, aggregation: Aggregation): Candidate {
  return { ...c, stepScores: response.scores, score: aggregateScores(response.scores, aggregation) };
}

/** True when a step ends the solution (it states a final answer). */
export function isFinalStep(step: string): boolean {
  return extractAnswer(step) !== null;
}

/** The conversation and stop sequences a request carries beside its question, when the problem has them. */
export function asked(state: { context?: Conversation | undefined; stop?: string[] | undefined }): {
  context?: Conversation;
  stop?: string[];
} {
  return { ...(state.context ? { context: state.context } : {}), ...(state.stop?.length ? { stop: state.stop } : {}) };
}
