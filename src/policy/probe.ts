/**
 * The verifier probe (method.md §6): a few samples of the prompt scored by the PRM. How high the PRM scores
 * them, and how much they agree, predict difficulty far better than the text alone can (part of a problem's
 * difficulty is not visible in its text). The probe's samples are paid for and become candidates.
 */
import { answerKey } from "../engine/answers";
import type { Candidate } from "../engine/types";

export const PROBE_FEATURES = ["probe_mean_score", "probe_top_share", "probe_answered_share"] as const;

/** Features of scored probe samples: mean final score, the most common answer's share, the share with an answer. */
export function probeFeatures(candidates: readonly Candidate[]): number[] {
  const n = candidates.length;
  if (n === 0) return [0, 0, 0];
  let score = 0;
  let answered = 0;
  const counts = new Map<string, number>();
  for (const c of candidates) {
    score += c.score ?? 0;
    if (c.answer === null) continue;
    answered++;
    const key = answerKey(c.answer);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const top = Math.max(0, ...counts.values());
  return [score / n, top / n, answered / n];
}
