/** Small statistics used by the evaluation: intervals, quantiles, bootstrap resamples and permutation tests. */
import type { Rng } from "../engine/random";

/** Wilson score interval for a binomial proportion (95% by default); sound at 0 and n successes. */
export function wilson(successes: number, n: number, z = 1.959963984540054): { lo: number; hi: number } {
  if (n === 0) return { lo: 0, hi: 1 };
  const p = successes / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return { lo: Math.max(0, centre - half), hi: Math.min(1, centre + half) };
}

export function mean(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  let t = 0;
  for (const x of xs) t += x;
  return t / xs.length;
}

/**
 * Assign each item to one of `bins` equal-count quantile bins by a score, highest score first
 * (so with pass@1 as the score, bin 1 is the easiest). Ties are broken by position: deterministic.
 */
export function quantileBins(scores: readonly number[], bins: number): number[] {
  const order = scores.map((_, i) => i).sort((a, b) => (scores[b] as number) - (scores[a] as number) || a - b);
  const out = new Array<number>(scores.length).fill(0);
  order.forEach((idx, rank) => {
    out[idx] = Math.min(bins, Math.floor((rank * bins) / scores.length) + 1);
  });
  return out;
}

/** Round for stable, compact JSON output. */
export function round(x: number, digits = 6): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  const r = Math.round(x * f) / f;
  return Object.is(r, -0) ? 0 : r;
}

/** Median of a list (mean of the middle two for an even count); NaN for none. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** The q-quantile of ascending-sorted values, interpolating linearly between order statistics. */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (pos - lo);
}

/** Percentile interval (95% by default) of bootstrap replicates. */
export function percentileInterval(values: readonly number[], level = 0.95): { lo: number; hi: number } {
  const s = [...values].sort((a, b) => a - b);
  return { lo: quantileSorted(s, (1 - level) / 2), hi: quantileSorted(s, 1 - (1 - level) / 2) };
}

/**
 * One stratified bootstrap resample as multiplicities: within each stratum (a list of item indices) draw
 * as many items as it holds, with replacement. Strata keep their sizes, so a resample never empties a
 * difficulty bin or a cross-validation fold.
 */
export function stratifiedResample(strata: readonly (readonly number[])[], size: number, rng: Rng): Float64Array {
  const w = new Float64Array(size);
  for (const members of strata) {
    for (let k = 0; k < members.length; k++) {
      const i = members[Math.floor(rng.next() * members.length)] as number;
      w[i] = (w[i] as number) + 1;
    }
  }
  return w;
}

/** Fisher-Yates shuffle of the first `n` entries, in place. */
export function shuffleInPlace(xs: number[] | Float64Array | Uint8Array, rng: Rng, n = xs.length): void {
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    const t = xs[i] as number;
    xs[i] = xs[j] as number;
    xs[j] = t;
  }
}

/**
 * One-sided permutation p-value: the share of null statistics at least as large as the observed one,
 * counting the observed arrangement itself (so p is never 0 and is exact under the null).
 */
export function permutationPValue(observed: number, nullStats: readonly number[]): number {
  let atLeast = 0;
  for (const t of nullStats) if (t >= observed - 1e-12) atLeast++;
  return (1 + atLeast) / (1 + nullStats.length);
}

/** P(X >= k) for X ~ Binomial(n, 1/2): how often k of n seeds would agree by chance if the sign were a coin. */
export function signTailP(k: number, n: number): number {
  let total = 0;
  let c = 1; // C(n, i)
  for (let i = 0; i <= n; i++) {
    if (i >= k) total += c;
    c = (c * (n - i)) / (i + 1);
  }
  return total / 2 ** n;
}

/** Round to `digits` significant digits, for costs that span many orders of magnitude (dollars, FLOPs). */
export function sig(x: number, digits = 6): number {
  if (!Number.isFinite(x) || x === 0) return x;
  return Number(x.toPrecision(digits));
}
