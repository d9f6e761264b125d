/**
 * The one meter: every unit spend is counted in, its name, how an amount of it reads, and which of them a
 * cost (a policy's fit, a calibration, a report) may be measured in. The ledger, the caps, the quotas and
 * the reports all count in these units; the cost unit a caller names is parsed here and nowhere else.
 */
import { z } from "zod";

/** What a budget caps and a step's worst case is bounded in (method.md §2). */
export interface Spend {
  /** The paper's units: N for best-of-N and beam search, N(k+1) for lookahead, s·p for revisions. */
  generations: number;
  /** Billed tokens: generator and verifier, prompt and completion. */
  tokens: number;
  /** US dollars. */
  money: number;
  /** Inference FLOPs (2·P·D for every model called). */
  flops: number;
}

/** A unit spend is capped in: a field of `Spend`. */
export type SpendUnit = keyof Spend;

/** Every unit, in the order caps are checked (the first one a step would break is the one named). */
export const SPEND_UNITS: readonly SpendUnit[] = ["generations", "tokens", "money", "flops"];

/** Nothing spent, in every unit. */
export function noSpend(): Spend {
  return { generations: 0, tokens: 0, ...noPriced() };
}

/**
 * Units a model card prices a call's tokens in (src/engine/budget.ts `priceUsage`): a call record carries
 * them beside its tokens, and the ledger and the worst-case bounds add them up unit by unit.
 */
export const PRICED_UNITS = ["money", "flops"] as const satisfies readonly SpendUnit[];
export type Priced = Record<(typeof PRICED_UNITS)[number], number>;

export function noPriced(): Priced {
  return { money: 0, flops: 0 };
}

/** Add `amount` to `into` in every priced unit. */
export function addPriced(into: Priced, amount: Priced): void {
  for (const u of PRICED_UNITS) into[u] += amount[u];
}

/** Units a cost is measured in besides generations: what a policy is fitted and capped on. */
export const COST_UNITS = ["tokens", "money", "flops"] as const;
export type CostUnit = (typeof COST_UNITS)[number];

/** Every unit the meter reads, the verifier's share of tokens included (the ledger keeps it apart). */
export type MeterUnit = SpendUnit | "verifierTokens";

/** How each unit is named to people and how an amount of it reads. */
export const UNITS: Record<MeterUnit, { name: string; format(amount: number): string }> = {
  generations: { name: "generations", format: (x) => `${Math.ceil(x)} generations` },
  tokens: { name: "tokens", format: (x) => `${Math.ceil(x)} tokens` },
  verifierTokens: { name: "verifier tokens", format: (x) => `${Math.ceil(x)} verifier tokens` },
  money: { name: "dollars", format: (x) => `$${x.toPrecision(3)}` },
  flops: { name: "FLOPs", format: (x) => `${x.toExponential(3)} FLOPs` },
};

/** An amount as people read it: `1200 tokens`, `$0.0123`, `4.200e+12 FLOPs`. */
export function formatAmount(unit: MeterUnit, amount: number): string {
  return UNITS[unit].format(amount);
}

/** A cost unit in a document or a request (policies, solve views). */
export const CostUnitSchema = z.enum(COST_UNITS);

/** A cost unit a person typed (a command-line option): the unit, or a message naming what was given. */
export function parseCostUnit(text: string): { ok: true; unit: CostUnit } | { ok: false; error: string } {
  const parsed = CostUnitSchema.safeParse(text);
  if (parsed.success) return { ok: true, unit: parsed.data };
  return { ok: false, error: `must be tokens, money or flops, got "${text}"` };
}
