/**
 * When to try a webhook again: the Standard Webhooks schedule (immediately, 5 s, 5 min, 30 min, 2 h, 5 h,
 * 10 h, 10 h), later when the receiver's Retry-After asks for more (at most a day), and never after 410.
 */
export const RETRY_DELAYS_MS = [
  0,
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  10 * 3_600_000,
];
const MAX_RETRY_AFTER_MS = 24 * 3_600_000;

export type AttemptOutcome =
  | { kind: "delivered"; status: number }
  | { kind: "gone"; status: 410 }
  | { kind: "refused"; reason: string }
  | { kind: "failed"; status?: number; error: string; retryAfterMs?: number };

export type NextStep = { kind: "done"; status: "delivered" | "disabled" | "failed" } | { kind: "retry"; at: number };

/** `attempts`: how many were made, this one included. */
export function nextStep(outcome: AttemptOutcome, attempts: number, now: number): NextStep {
  if (outcome.kind === "delivered") return { kind: "done", status: "delivered" };
  if (outcome.kind === "gone") return { kind: "done", status: "disabled" };
  // The guard refused the destination: it will refuse it again.
  if (outcome.kind === "refused") return { kind: "done", status: "failed" };
  const delay = RETRY_DELAYS_MS[attempts];
  if (delay === undefined) return { kind: "done", status: "failed" };
  return { kind: "retry", at: now + Math.max(delay, Math.min(outcome.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS)) };
}

/** Retry-After as seconds or an HTTP date, in milliseconds from now. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
