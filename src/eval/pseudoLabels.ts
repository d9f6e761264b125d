/**
 * Label-free calibration (issue 20, item 5): outcomes relabelled without gold answers, from the deployment's
 * own high-budget agreement. A problem's reference answer is what the dearest majority vote of the sweep
 * (best-of-N majority at the largest N) answered; a run counts as "right" when it gave that answer. The
 * difficulty label the estimator is fitted to becomes the share of configurations that agree with the
 * reference (a problem most configurations agree on is easy). Pure: outcome data in, relabelled data out.
 */
import { answersEquivalent } from "../engine/answers";
import type { OutcomeData } from "../policy/fit";

/** The configuration whose answers are the reference: best-of-N majority at its largest N. */
export function referenceConfig(data: OutcomeData): number {
  let best = -1;
  let n = 0;
  data.configs.forEach((c, i) => {
    const s = c.spec;
    if (s.strategy === "best-of-n" && s.selection === "majority" && s.stopAt === undefined && s.n > n) {
      n = s.n;
      best = i;
    }
  });
  if (best < 0) throw new Error("label-free calibration needs best-of-N majority among the candidates");
  return best;
}

/** The same outcomes with agreement labels in place of correctness (and of pass@1). */
export function pseudoLabelled(data: OutcomeData): OutcomeData {
  const answers = data.answers;
  if (!answers) throw new Error("label-free calibration needs the runs' answers (a sweep that records them)");
  const ref = answers[referenceConfig(data)] as (string | null)[];
  const correct = answers.map((row) =>
    Uint8Array.from(row, (a, i) => {
      const r = ref[i] ?? null;
      return a !== null && r !== null && answersEquivalent(a, r) ? 1 : 0;
    }),
  );
  const passAt1 = data.prompts.map((_, i) => correct.reduce((t, c) => t + (c[i] as number), 0) / correct.length);
  return { ...data, correct, passAt1, oracleSamples: correct.length };
}
