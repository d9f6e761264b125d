/** Small statistics used by the evaluation: intervals and quantiles. */

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
