/**
 * The OpenAI-compatible models: `ttc-auto` (the fitted policy chooses the strategy per prompt, within a
 * generation cap set by `reasoning_effort`), and one per registered strategy, `ttc-<strategy>`, each with
 * documented presets for `reasoning_effort` (the generation budget N and how the strategy spends it).
 */
import { STRATEGIES, type StrategyName } from "../engine/strategies";

/** Every value OpenAI's SDKs send for `reasoning_effort` (openai-node's `ReasoningEffort`). */
export const EFFORTS = ["none", "minimal", "low", "medium", "high", "xhigh", "max"] as const;
export type Effort = (typeof EFFORTS)[number];

/**
 * Generation budget N per effort (medium is the default): `none` is a single sample (no search), each step
 * up multiplies the search by four from `low`, and `max` by four again over `xhigh`.
 */
export const EFFORT_GENERATIONS: Record<Effort, number> = {
  none: 1,
  minimal: 2,
  low: 4,
  medium: 16,
  high: 64,
  xhigh: 256,
  max: 1024,
};

/** How each strategy spends N: its own `preset` (src/engine/strategies). */
const PRESETS: Partial<Record<StrategyName, (n: number) => Record<string, unknown>>> = Object.fromEntries(
  STRATEGIES.map((s) => [s.name, s.preset]),
);

export const MODEL_PREFIX = "ttc-";

export const AUTO_MODEL = `${MODEL_PREFIX}auto`;

export const MODELS: { id: string; strategy: StrategyName | "auto"; costFormula: string }[] = [
  { id: AUTO_MODEL, strategy: "auto", costFormula: "chosen per prompt, at most N" },
  ...STRATEGIES.filter((s) => PRESETS[s.name]).map((s) => ({
    id: `${MODEL_PREFIX}${s.name}`,
    strategy: s.name as StrategyName,
    costFormula: s.costFormula,
  })),
];

export function modelIds(): string[] {
  return MODELS.map((m) => m.id);
}

/** The strategy spec (before validation) a model and effort stand for, or null for an unknown model. */
export function presetFor(model: string, effort: Effort): Record<string, unknown> | null {
  const m = MODELS.find((x) => x.id === model);
  if (!m) return null;
  if (m.strategy === "auto") return { strategy: "auto" };
  const preset = PRESETS[m.strategy];
  return preset ? { strategy: m.strategy, ...preset(EFFORT_GENERATIONS[effort]) } : null;
}

/** Every registered strategy has a preset (a test checks it): a new strategy is a new model. */
export function strategiesWithoutPreset(): string[] {
  return STRATEGIES.filter((s) => !PRESETS[s.name]).map((s) => s.name);
}
