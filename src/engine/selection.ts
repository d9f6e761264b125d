/**
 * Choosing one answer among candidate solutions (method.md §3 and §5). Equivalent answers are one answer
 * in every vote: candidates are grouped by `answerKey`. Ties go to the answer seen first, so selection is
 * deterministic for a given candidate order.
 */
import { answerKey } from "./answers";
import { joinSteps } from "./solutionSteps";
import type { Candidate, SolveOutcome } from "./types";

export type SelectionRule = "weighted" | "best" | "majority";

interface Group {
  key: string;
  weight: number;
  /** Index of the group's highest-scoring (else first) candidate. */
  representative: number;
}

function groupBy(
  candidates: readonly Candidate[],
  weightOf: (c: Candidate) => number,
): { groups: Group[]; total: number } {
  const byKey = new Map<string, Group>();
  const groups: Group[] = [];
  let total = 0;
  candidates.forEach((c, i) => {
    if (c.answer === null) return;
    const key = answerKey(c.answer);
    const w = weightOf(c);
    total += w;
    let g = byKey.get(key);
    if (!g) {
      g = { key, weight: 0, representative: i };
      byKey.set(key, g);
      groups.push(g);
    } else if ((c.score ?? 0) > (candidates[g.representative]?.score ?? 0)) {
      g.representative = i;
    }
    g.weight += w;
  });
  return { groups, total };
}

function pickHeaviest(groups: readonly Group[]): Group | undefined {
  let best: Group | undefined;
  for (const g of groups) if (!best || g.weight > best.weight) best = g;
  return best;
}

function outcomeFor(candidates: readonly Candidate[], winner: Group | undefined, total: number): SolveOutcome {
  if (!winner) return { answer: null, solution: null, confidence: 0, candidates: [...candidates] };
  const rep = candidates[winner.representative] as Candidate;
  return {
    answer: rep.answer,
    solution: joinSteps(rep.steps),
    confidence: total > 0 ? winner.weight / total : 0,
    candidates: [...candidates],
  };
}

/** The most frequent final answer; no verifier needed. */
export function selectMajority(candidates: readonly Candidate[]): SolveOutcome {
  const { groups, total } = groupBy(candidates, () => 1);
  return outcomeFor(candidates, pickHeaviest(groups), total);
}

/** The answer of the single highest-scoring candidate. */
export function selectBest(candidates: readonly Candidate[]): SolveOutcome {
  let best = -1;
  candidates.forEach((c, i) => {
    if (c.answer === null) return;
    if (best < 0 || (c.score ?? 0) > ((candidates[best] as Candidate).score ?? 0)) best = i;
  });
  if (best < 0) return outcomeFor(candidates, undefined, 0);
  const { groups, total } = groupBy(candidates, (c) => c.score ?? 0);
  const key = answerKey((candidates[best] as Candidate).answer as string);
  const g = groups.find((x) => x.key === key) as Group;
  return outcomeFor(candidates, { ...g, representative: best }, total);
}

/** Best-of-N weighted: sum the scores of candidates with the same answer; the largest sum wins. */
export function selectWeighted(candidates: readonly Candidate[]): SolveOutcome {
  const { groups, total } = groupBy(candidates, (c) => c.score ?? 0);
  return outcomeFor(candidates, pickHeaviest(groups), total);
}

export function select(rule: SelectionRule, candidates: readonly Candidate[]): SolveOutcome {
  switch (rule) {
    case "weighted":
      return selectWeighted(candidates);
    case "best":
      return selectBest(candidates);
    case "majority":
      return selectMajority(candidates);
  }
}

/**
 * Hierarchical selection for revision chains: best-of-N weighted within each chain, keep each chain's best
 * candidate (the top-scoring one with the chain's winning answer), then best-of-N weighted across chains.
 */
export function selectHierarchical(candidates: readonly Candidate[]): SolveOutcome {
  const chains = new Map<number, Candidate[]>();
  for (const c of candidates) {
    const k = c.chain ?? 0;
    let list = chains.get(k);
    if (!list) chains.set(k, (list = []));
    list.push(c);
  }
  const winners: Candidate[] = [];
  for (const k of [...chains.keys()].sort((a, b) => a - b)) {
    const inner = selectWeighted(chains.get(k) as Candidate[]);
    if (inner.answer === null) continue;
    const key = answerKey(inner.answer);
    let best: Candidate | undefined;
    for (const c of chains.get(k) as Candidate[]) {
      if (c.answer === null || answerKey(c.answer) !== key) continue;
      if (!best || (c.score ?? 0) > (best.score ?? 0)) best = c;
    }
    if (best) winners.push(best);
  }
  const across = selectWeighted(winners);
  return { ...across, candidates: [...candidates] };
}
