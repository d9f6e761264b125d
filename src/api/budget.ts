/** The one mapping from the API's budget (relative deadline) to the engine's (absolute deadline). */
import type { Budget } from "../engine/budget";
import type { RefusedField } from "../engine/executor";
import type { KeyLimits } from "../auth/apiKey";
import type { ApiBudget } from "./schemas";

export function toEngineBudget(budget: ApiBudget, now: number): Budget {
  const { deadlineMs, ...caps } = budget;
  const out: Budget = {};
  for (const [k, v] of Object.entries(caps) as [keyof typeof caps, number | undefined][])
    if (v !== undefined) out[k] = v;
  if (deadlineMs !== undefined) out.deadline = now + deadlineMs;
  return out;
}

/** The API's name for an engine budget field (the deadline is relative in the API). */
export function apiBudgetField(field: RefusedField): string {
  if (field === "model") return "strategy.model";
  return field === "deadline" ? "budget.deadlineMs" : `budget.${field}`;
}

/**
 * The budget a solve runs under: the request's caps, with the key's per-solve defaults for tokens and money
 * where the request gives none, so that every solve has the caps its key's daily quota reserves.
 */
export function withKeyDefaults(
  budget: ApiBudget,
  limits: Pick<KeyLimits, "defaultSolveTokens" | "defaultSolveMoney">,
): ApiBudget & { tokens: number; money: number } {
  return {
    ...budget,
    tokens: budget.tokens ?? limits.defaultSolveTokens,
    money: budget.money ?? limits.defaultSolveMoney,
  };
}
