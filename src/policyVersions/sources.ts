/**
 * The per-source cap of a shared (global) fit: no one source — a trusted tenant — contributes more than
 * `maxShare` of the outcomes the fit learns from. Pure. Outcomes are admitted by count, not re-weighted, so the
 * refit (src/policy/retune.ts) and its replay comparison see exactly the capped set.
 *
 * Water-filling: every source keeps its newest min(n, K) outcomes for the largest K with K ≤ maxShare × Σ min(n, K).
 * maxShare × Σ min(n, K) − K is concave in K (its slope, maxShare × #{n > K} − 1, only falls) and 0 at K = 0, so
 * the condition holds on an interval [0, K*] and a binary search finds K*. A source's share is then min(n, K) / total ≤ K / total
 * ≤ maxShare. With fewer than ⌈1 / maxShare⌉ sources no K > 0 satisfies it: a lone trusted tenant cannot
 * re-tune the global policy by itself while the cap is below 1 (documented in docs/policy-isolation.md).
 */
export interface CappedOutcomes<T> {
  admitted: T[];
  /** Per source: outcomes offered, and admitted. */
  sources: { source: string; offered: number; admitted: number }[];
  /** The largest number any one source may contribute. */
  perSource: number;
}

export function capPerSource<T>(rows: readonly T[], sourceOf: (row: T) => string, maxShare: number): CappedOutcomes<T> {
  // Rows arrive newest first; each source keeps its newest ones.
  const bySource = new Map<string, T[]>();
  for (const r of rows) {
    const s = sourceOf(r);
    const list = bySource.get(s) ?? [];
    list.push(r);
    bySource.set(s, list);
  }
  const counts = [...bySource.values()].map((l) => l.length);
  const holds = (k: number) => k <= maxShare * counts.reduce((sum, n) => sum + Math.min(n, k), 0) + 1e-9;
  let lo = 0;
  let hi = Math.max(0, ...counts);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (holds(mid)) lo = mid;
    else hi = mid - 1;
  }
  const perSource = lo;
  const keep = new Set<T>();
  const sources = [...bySource.entries()].map(([source, list]) => {
    list.slice(0, perSource).forEach((r) => keep.add(r));
    return { source, offered: list.length, admitted: Math.min(list.length, perSource) };
  });
  return { admitted: rows.filter((r) => keep.has(r)), sources, perSource };
}
