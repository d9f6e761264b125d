/**
 * Beam search and lookahead search against a PRM (method.md §4): one group of N slots keeping the top N/M
 * prefixes each round; lookahead k > 0 scores each prefix through a k-step temperature-0 rollout. The
 * algorithm is shared with DVTS in `stepwiseSearch.ts`.
 */
import { z } from "zod";
import { defineStrategy, square, type GridConfigs, type GridValues } from "./definition";
import { stepwiseFields, stepwiseMachine, type StepwiseState } from "./stepwiseSearch";

export const BeamSearchSpecSchema = z
  .object({ strategy: z.literal("beam-search"), ...stepwiseFields })
  .refine((s) => s.width <= s.n && s.n % s.width === 0, {
    message: "beam search needs width M to divide n (N/M prefixes are kept each round)",
    path: ["width"],
  });

export type BeamSearchSpec = z.output<typeof BeamSearchSpecSchema>;

/** Beams N = budget / (k+1) with width M (or √N), when the budget can be spent exactly. */
function beamConfigs(name: string, label: string, values: GridValues, budget: number): GridConfigs {
  const k = typeof values.k === "number" ? values.k : 0;
  const n = budget / (k + 1);
  let m: number;
  if (values.M === "sqrt") {
    const root = Number.isInteger(n) ? square(n) : null;
    if (root === null) return { ok: true, configs: [] };
    m = root;
  } else m = values.M ?? 4;
  if (budget < m * (k + 1)) return { ok: true, configs: [] };
  if (!Number.isInteger(n) || n % m !== 0) {
    const why = k > 0 ? `it costs N(k+1) with N divisible by M=${m}` : `N must be divisible by M=${m}`;
    return { ok: false, error: `${name} cannot spend budget ${budget}: ${why}` };
  }
  return { ok: true, configs: [{ series: label, spec: { strategy: "beam-search", n, width: m, lookahead: k } }] };
}

const widthLabel = (v: GridValues): string => (v.M === "sqrt" ? "sqrt(N)" : String(v.M));

export const beamSearch = defineStrategy<typeof BeamSearchSpecSchema, StepwiseState<BeamSearchSpec>>({
  name: "beam-search",
  schema: BeamSearchSpecSchema,
  ...stepwiseMachine,
  // Beams kept per step: 4 from N = 16 up, else as many as N allows (width must divide N).
  preset: (n) => ({ n, width: n >= 16 ? 4 : Math.min(n, 2) }),
  grid: [
    {
      name: "beam",
      params: { M: { default: 4, min: 1, max: 4096, sqrt: true } },
      aliases: { "beam-m4": { M: 4 }, "beam-sqrt": { M: "sqrt" }, "beam-search": { M: 4 } },
      label: (v) => `Beam search M=${widthLabel(v)}`,
      configs(v, budget) {
        return beamConfigs(`beam:M=${v.M}`, this.label(v), v, budget);
      },
    },
    {
      name: "lookahead",
      params: { k: { default: 1, min: 1, max: 16 }, M: { default: 4, min: 1, max: 4096, sqrt: true } },
      aliases: { "lookahead-1": { k: 1, M: 4 }, "lookahead-3": { k: 3, M: 4 } },
      label: (v) => `Lookahead k=${v.k} M=${v.M}`,
      configs(v, budget) {
        return beamConfigs(`lookahead:k=${v.k};M=${v.M}`, this.label(v), v, budget);
      },
    },
  ],
});
