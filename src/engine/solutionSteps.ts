/** Solutions are sequences of steps separated by a blank line (method.md §3). */

export const STEP_SEPARATOR = "\n\n";

/** Split a solution into its non-empty steps. */
export function splitSteps(text: string): string[] {
  const out: string[] = [];
  for (const part of text.split(/\n[ \t]*\n/)) {
    const step = part.trim();
    if (step.length > 0) out.push(step);
  }
  return out;
}

export function joinSteps(steps: readonly string[]): string {
  return steps.join(STEP_SEPARATOR);
}

export type Aggregation = "last" | "min" | "prod" | "mean";
export const AGGREGATIONS: readonly Aggregation[] = ["last", "min", "prod", "mean"];

/** Aggregate per-step verifier scores into one solution score. An unscored solution scores 0. */
export function aggregateScores(scores: readonly number[], how: Aggregation): number {
  if (scores.length === 0) return 0;
  switch (how) {
    case "last":
      return scores[scores.length - 1] as number;
    case "min": {
      let m = Infinity;
      for (const s of scores) if (s < m) m = s;
      return m;
    }
    case "prod": {
      let p = 1;
      for (const s of scores) p *= s;
      return p;
    }
    case "mean": {
      let t = 0;
      for (const s of scores) t += s;
      return t / scores.length;
    }
  }
}
