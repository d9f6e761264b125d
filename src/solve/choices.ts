/**
 * The `n` choices of a chat completion: the solve's selected answer first, then the other distinct answers
 * (equivalent answers are one) by the weight the candidates give them: their summed verifier scores, or
 * their count where nothing was scored. Each is shown as its best-scored solution.
 */
import { answerKey } from "../engine/answers";
import { joinSteps } from "../engine/solutionSteps";
import type { Candidate, SolveOutcome } from "../engine/types";

export interface Choice {
  answer: string | null;
  /** The solution text that carries the answer. */
  content: string | null;
}

export function topChoices(outcome: SolveOutcome | undefined, n: number): Choice[] {
  if (!outcome) return [{ answer: null, content: null }];
  const first: Choice = { answer: outcome.answer, content: outcome.solution };
  const scored = outcome.candidates.some((c) => c.score !== undefined);
  const groups = new Map<string, { weight: number; best: Candidate }>();
  for (const c of outcome.candidates) {
    if (c.answer === null) continue;
    const key = answerKey(c.answer);
    const w = scored ? (c.score ?? 0) : 1;
    const g = groups.get(key);
    if (!g) groups.set(key, { weight: w, best: c });
    else {
      g.weight += w;
      if ((c.score ?? 0) > (g.best.score ?? 0)) g.best = c;
    }
  }
  const taken = outcome.answer === null ? undefined : answerKey(outcome.answer);
  const rest = [...groups.entries()]
    .filter(([key]) => key !== taken)
    .sort((a, b) => b[1].weight - a[1].weight)
    .map(([, g]): Choice => ({ answer: g.best.answer, content: joinSteps(g.best.steps) }));
  return [first, ...rest].slice(0, n);
}

/** The spend a chat completion's usage is computed from (src/openai/completion.ts `usageOf`). */
export interface SpendDetail {
  tokens: number;
  generatorPromptTokens: number;
}
