/**
 * The `n` choices of a chat completion: the solve's selected answer first, then the other distinct answers
 * (equivalent answers are one) by the weight the candidates give them: their summed verifier scores, or
 * their count where nothing was scored. Each is shown as its best-scored solution. Fewer distinct answers
 * than `n`: the rest are the other candidates by score (distinct texts), then the first again, so that every
 * choice the client asked for arrives. Content is never null: without an extracted answer, the best-ranked
 * candidate's text is shown (and `answer` stays null).
 */
import { answerKey } from "../engine/answers";
import { joinSteps } from "../engine/solutionSteps";
import type { Candidate, SolveOutcome } from "../engine/types";

export interface Choice {
  answer: string | null;
  /** The solution text that carries the answer, or the best-ranked candidate's text without one. */
  content: string;
}

const byScore = (a: Candidate, b: Candidate) => (b.score ?? 0) - (a.score ?? 0);

export function topChoices(outcome: SolveOutcome | undefined, n: number): Choice[] {
  const ranked = [...(outcome?.candidates ?? [])].sort(byScore);
  const first: Choice = {
    answer: outcome?.answer ?? null,
    content: outcome?.solution ?? (ranked[0] ? joinSteps(ranked[0].steps) : ""),
  };
  const scored = ranked.some((c) => c.score !== undefined);
  const groups = new Map<string, { weight: number; best: Candidate }>();
  for (const c of outcome?.candidates ?? []) {
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
  const taken = outcome?.answer == null ? undefined : answerKey(outcome.answer);
  const rest = [...groups.entries()]
    .filter(([key]) => key !== taken)
    .sort((a, b) => b[1].weight - a[1].weight)
    .map(([, g]): Choice => ({ answer: g.best.answer, content: joinSteps(g.best.steps) }));
  const out = [first, ...rest].slice(0, n);
  const shown = new Set(out.map((c) => c.content));
  for (const c of ranked) {
    if (out.length >= n) break;
    const content = joinSteps(c.steps);
    if (shown.has(content)) continue;
    shown.add(content);
    out.push({ answer: c.answer, content });
  }
  while (out.length < n) out.push(first);
  return out;
}

/** The spend a chat completion's usage is computed from (src/openai/completion.ts `usageOf`). */
export interface SpendDetail {
  tokens: number;
  generatorPromptTokens: number;
}
