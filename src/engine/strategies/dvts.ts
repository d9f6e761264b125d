/**
 * Diverse verifier tree search (method.md §4, Hugging Face's extension): N/M independent subtrees of M
 * slots, each keeping only its single best prefix per round. The algorithm is shared with beam search in
 * `stepwiseSearch.ts`.
 */
import { z } from "zod";
import { defineStrategy } from "./definition";
import { stepwiseFields, stepwiseMachine, type StepwiseState } from "./stepwiseSearch";

export const DvtsSpecSchema = z
  .object({ strategy: z.literal("dvts"), ...stepwiseFields })
  .refine((s) => s.width <= s.n && s.n % s.width === 0, {
    message: "DVTS needs width M to divide n (n/M independent subtrees of M)",
    path: ["width"],
  });

export type DvtsSpec = z.output<typeof DvtsSpecSchema>;

export const dvts = defineStrategy<typeof DvtsSpecSchema, StepwiseState<DvtsSpec>>({
  name: "dvts",
  schema: DvtsSpecSchema,
  ...stepwiseMachine,
  // Beams kept per step: 4 from N = 16 up, else as many as N allows (width must divide N).
  preset: (n) => ({ n, width: n >= 16 ? 4 : Math.min(n, 2) }),
  grid: [
    {
      name: "dvts",
      params: { M: { default: 4, min: 1, max: 4096 } },
      label: (v) => `DVTS M=${v.M}`,
      configs(v, budget) {
        const m = v.M as number;
        if (budget < m) return { ok: true, configs: [] };
        if (budget % m !== 0)
          return { ok: false, error: `dvts:M=${m} cannot spend budget ${budget}: N must be divisible by M=${m}` };
        return { ok: true, configs: [{ series: this.label(v), spec: { strategy: "dvts", n: budget, width: m } }] };
      },
    },
  ],
});
