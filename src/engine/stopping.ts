/**
 * When sampling more cannot change the answer: the stopping rule of adaptive best-of-N (Aggarwal et al.,
 * 2023, "Let's Sample Step by Step": Adaptive-Consistency). The votes for the two leading answers are the
 * pseudo-counts of a Beta posterior over the leader's share between them; sampling stops once the posterior
 * probability that the leader is truly ahead reaches the threshold. With a verifier the votes are summed
 * scores (best-of-N weighted); without, counts (majority).
 */
import { answerKey } from "./answers";
import type { Candidate } from "./types";

/** log Γ(x) for x > 0 (Lanczos approximation, g = 7, n = 9; relative error below 1e-13). */
export function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = c[0] as number;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += (c[i] as number) / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/**
 * P(X > 1/2) for X ~ Beta(a, b), a, b ≥ 1, by Simpson's rule on the density. The smaller tail is the one
 * integrated (the density there is smooth and small even for very peaked posteriors), then complemented.
 */
export function betaUpperHalf(a: number, b: number): number {
  if (a > b) return 1 - betaUpperHalf(b, a);
  const logNorm = logGamma(a + b) - logGamma(a) - logGamma(b);
  const f = (x: number): number =>
    x <= 0 || x >= 1
      ? x >= 1 && b === 1
        ? Math.exp(logNorm)
        : 0
      : Math.exp(logNorm + (a - 1) * Math.log(x) + (b - 1) * Math.log(1 - x));
  const steps = 400;
  const h = 0.5 / steps;
  let s = f(0.5) + f(1);
  for (let i = 1; i < steps; i++) s += (i % 2 === 1 ? 4 : 2) * f(0.5 + i * h);
  return Math.min(1, Math.max(0, (s * h) / 3));
}

/** Votes for the leading and the second answer among candidates with an answer. */
export function leadingVotes(candidates: readonly Candidate[], weighted: boolean): { first: number; second: number } {
  const votes = new Map<string, number>();
  for (const c of candidates) {
    if (c.answer === null) continue;
    const key = answerKey(c.answer);
    votes.set(key, (votes.get(key) ?? 0) + (weighted ? (c.score ?? 0) : 1));
  }
  const sorted = [...votes.values()].sort((x, y) => y - x);
  return { first: sorted[0] ?? 0, second: sorted[1] ?? 0 };
}

/** Posterior probability that the leading answer is ahead of the second (0 when nothing has an answer). */
export function leaderConfidence(candidates: readonly Candidate[], weighted: boolean): number {
  const { first, second } = leadingVotes(candidates, weighted);
  if (first <= 0) return 0;
  return betaUpperHalf(first + 1, second + 1);
}
