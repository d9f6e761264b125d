/** The one mapping from the API's budget (relative deadline) to the engine's (absolute deadline). */
import type { Budget } from "../engine/budget";
import type { ApiBudget } from "./schemas";

export function toEngineBudget(budget: ApiBudget, now: number): Budget {
  const { deadlineMs, ...caps } = budget;
  const out: Budget = {};
  for (const [k, v] of Object.entries(caps) as [keyof typeof caps, number | undefined][]) if (v !== undefined) out[k] = v;
  if (deadlineMs !== undefined) out.deadline = now + deadlineMs;
  return out;
}

/** The API's name for an engine budget field (the deadline is relative in the API). */
export function apiBudgetField(field: keyof Budget): string {
  return field === "deadline" ? "budget.deadlineMs" : `budget.${field}`;
}
