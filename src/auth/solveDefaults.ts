/**
 * A key's per-solve defaults as a request that names no budget gets them today: each clipped to what the
 * key's daily cap leaves (cap less settled spend and running solves' reservations), so a key whose default
 * is larger than its cap, or than what is left of it, still serves such requests. Nothing left at all is a
 * 429 naming the cap, with Retry-After.
 */
import type { KeyLimits } from "./apiKey";
import type { Principal } from "./keyStore";
import { secondsToNextUtcDay } from "../quota/day";
import { quotaRefused } from "../quota/refusal";
import { keyQuota } from "../quota/stub";

/** A refusal that could pass once running solves settle is retried sooner than the next day (as KeyQuota). */
const RETRY_WHILE_SOLVES_RUN_S = 30;

export interface Clipped {
  /** The key's limits with the per-solve defaults clipped. */
  limits: KeyLimits;
  /** The defaults that were clipped: what the key says, and what the request gets. */
  clipped: { tokens?: { from: number; to: number }; money?: { from: number; to: number } };
  /** Seconds until more of the day's caps may be free: running solves settling, else the next UTC day. */
  retryAfterSeconds: number;
}

/**
 * The principal's limits with today's defaults. Without a request budget in a unit, that unit's default is
 * clipped; a unit the request names is left alone (it is checked against the cap when it is reserved).
 */
export async function todaysDefaults(
  env: Env,
  principal: Principal,
  named: { tokens?: number | undefined; money?: number | undefined },
  now = Date.now(),
): Promise<Clipped> {
  const limits = { ...principal.limits };
  const clipped: Clipped["clipped"] = {};
  if (named.tokens !== undefined && named.money !== undefined)
    return { limits, clipped, retryAfterSeconds: secondsToNextUtcDay(now) };
  const usage = await keyQuota(env, principal.keyId).usage(limits);
  const retryAfterSeconds =
    usage.tokens.reserved > 0 || usage.money.reserved > 0 ? RETRY_WHILE_SOLVES_RUN_S : secondsToNextUtcDay(now);
  const leftTokens = Math.max(0, Math.floor(limits.tokensPerDay - usage.tokens.spent - usage.tokens.reserved));
  // Money in micro-dollars' precision, rounded down: the clipped default must fit the reservation exactly.
  const leftMoney = Math.max(
    0,
    Math.floor((limits.moneyPerDay - usage.money.spent - usage.money.reserved) * 1e6) / 1e6,
  );
  for (const [unit, left, key, fmt] of [
    ["tokens", leftTokens, "defaultSolveTokens", (x: number) => String(x)],
    ["money", leftMoney, "defaultSolveMoney", (x: number) => `$${x.toFixed(4)}`],
  ] as const) {
    if (named[unit] !== undefined || limits[key] <= left) continue;
    const cap = unit === "tokens" ? limits.tokensPerDay : limits.moneyPerDay;
    if (left <= 0) {
      throw quotaRefused({
        ok: false,
        limit: `${unit} per day`,
        message: `daily ${unit} cap: nothing is left of this key's ${fmt(cap)} per day for a solve's default budget.${unit}`,
        retryAfterSeconds,
      });
    }
    clipped[unit] = { from: limits[key], to: left };
    limits[key] = left;
  }
  return { limits, clipped, retryAfterSeconds };
}
