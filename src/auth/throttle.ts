/**
 * Throttling requests that carry no valid credential (no API key, an unknown or revoked one, a wrong admin
 * secret): counted per client address, and beyond UNAUTHENTICATED_LIMIT a minute answered 429 with
 * Retry-After instead of 401. Only refusals count, so a client with a valid key is never slowed by this.
 *
 * Counting uses the Workers Rate Limiting binding (`[[ratelimits]]` UNAUTHENTICATED_LIMITER in wrangler.toml,
 * https://developers.cloudflare.com/workers/runtime-apis/bindings/rate-limit/: a fixed window per key, period
 * 10 or 60 s, counted per Cloudflare location) where it is configured; without it, a fixed window in this
 * isolate's memory, bounded in the addresses it remembers.
 */
import ipaddr from "ipaddr.js";
import { ApiError } from "../errors/apiError";

/** Refusals per client address per window; the binding's `simple.limit` in wrangler.toml says the same. */
export const UNAUTHENTICATED_LIMIT = 100;
/** The window, seconds (the binding's `simple.period`). */
export const UNAUTHENTICATED_PERIOD_S = 60;
/** Addresses the in-memory fallback remembers; the oldest window is forgotten first. */
const MAX_REMEMBERED = 10_000;

/**
 * Who is asking: CF-Connecting-IP, which Cloudflare sets to the client's address (a client cannot set it
 * through Cloudflare). IPv6 clients are counted per /64, the block one subscriber is typically given.
 */
export function clientAddress(req: Request): string {
  const raw = (req.headers.get("cf-connecting-ip") ?? "").trim();
  if (!raw) return "unknown";
  if (!ipaddr.isValid(raw)) return `invalid:${raw.slice(0, 64)}`;
  const a = ipaddr.process(raw);
  if (a.kind() === "ipv4") return a.toString();
  const p = (a as ipaddr.IPv6).parts;
  return `${p
    .slice(0, 4)
    .map((x) => x.toString(16))
    .join(":")}::/64`;
}

const windows = new Map<string, { start: number; count: number }>();

/** The in-memory fallback: a fixed window per address. */
export function countInMemory(key: string, now: number): { ok: boolean; retryAfterSeconds: number } {
  const periodMs = UNAUTHENTICATED_PERIOD_S * 1000;
  let w = windows.get(key);
  if (!w || now - w.start >= periodMs) {
    windows.delete(key);
    w = { start: now, count: 0 };
    if (windows.size >= MAX_REMEMBERED) windows.delete(windows.keys().next().value!);
    windows.set(key, w);
  }
  w.count += 1;
  return {
    ok: w.count <= UNAUTHENTICATED_LIMIT,
    retryAfterSeconds: Math.max(1, Math.ceil((w.start + periodMs - now) / 1000)),
  };
}

function limiterOf(env: Env): RateLimit | undefined {
  const b = (env as unknown as { UNAUTHENTICATED_LIMITER?: RateLimit }).UNAUTHENTICATED_LIMITER;
  return b && typeof b.limit === "function" ? b : undefined;
}

/**
 * Count a refused request against its address and throw: `refusal` (the 401) while the address is within
 * its limit, a 429 with Retry-After beyond it.
 */
export async function refuseUnauthenticated(env: Env, req: Request, refusal: ApiError): Promise<never> {
  const key = clientAddress(req);
  let verdict: { ok: boolean; retryAfterSeconds: number };
  const limiter = limiterOf(env);
  if (limiter) {
    try {
      // The binding does not say when its window ends: the whole period is the honest upper bound.
      verdict = { ok: (await limiter.limit({ key })).success, retryAfterSeconds: UNAUTHENTICATED_PERIOD_S };
    } catch (err) {
      // The limiter's fault is not the caller's: count in memory instead.
      console.error("unauthenticated rate limiter failed; counting in memory:", err);
      verdict = countInMemory(key, Date.now());
    }
  } else {
    verdict = countInMemory(key, Date.now());
  }
  if (verdict.ok) throw refusal;
  throw new ApiError(
    429,
    "rate_limited",
    `too many requests without a valid credential from this address (at most ${UNAUTHENTICATED_LIMIT} a minute); retry after ${verdict.retryAfterSeconds} s`,
    { headers: { "Retry-After": String(verdict.retryAfterSeconds) } },
  );
}
