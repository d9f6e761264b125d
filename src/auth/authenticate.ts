/**
 * Middleware for `/v1`: the caller's API key (Authorization: Bearer) becomes `c.var.principal`, and the
 * key's rate limit is applied (its KeyQuota object counts). Refusals name what is wrong, and are throttled
 * per client address.
 */
import { createMiddleware } from "hono/factory";
import { ApiError } from "../errors/apiError";
import type { AppEnv } from "./env";
import type { RateHeadroom } from "../quota/KeyQuota";
import { quotaRefused } from "../quota/refusal";
import { keyQuota } from "../quota/stub";
import { KEY_PREFIX } from "./apiKey";
import { findPrincipal } from "./keyStore";
import { refuseUnauthenticated } from "./throttle";

/** OpenAI's duration format for resets: "6m0s", "1.5s", "20ms". */
export function openAiDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const sec = (ms % 60_000) / 1000;
  const secText = `${Number.isInteger(sec) ? sec : sec.toFixed(3).replace(/0+$/, "")}s`;
  return h > 0 ? `${h}h${m}m${secText}` : m > 0 ? `${m}m${secText}` : secText;
}

/** OpenAI's rate-limit headers from the key's request rate and daily token cap. */
export function rateLimitHeaders(h: RateHeadroom): Record<string, string> {
  return {
    "x-ratelimit-limit-requests": String(h.requests.limit),
    "x-ratelimit-remaining-requests": String(h.requests.remaining),
    "x-ratelimit-reset-requests": openAiDuration(h.requests.resetMs),
    "x-ratelimit-limit-tokens": String(h.tokens.limit),
    "x-ratelimit-remaining-tokens": String(h.tokens.remaining),
    "x-ratelimit-reset-tokens": openAiDuration(h.tokens.resetMs),
  };
}

const CHALLENGE = { "WWW-Authenticate": 'Bearer realm="ttc-edge"' };

function unauthorized(message: string): ApiError {
  return new ApiError(401, "unauthorized", message, { headers: CHALLENGE });
}

export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  // Every refusal here counts against the client's address (throttle.ts): 429 beyond its limit.
  const refuse = (message: string) => refuseUnauthenticated(c.env, c.req.raw, unauthorized(message));
  const header = c.req.header("authorization");
  if (header === undefined) return refuse("missing API key: send it as Authorization: Bearer <key>");
  const m = /^bearer +(\S+) *$/i.exec(header);
  if (!m) return refuse("the Authorization header must be 'Bearer <key>'");
  const key = m[1]!;
  // Anything that is not shaped like our keys cannot be one: no lookup.
  const principal = key.startsWith(KEY_PREFIX) && key.length < 100 ? await findPrincipal(c.env.DB, key) : null;
  if (!principal) return refuse("unknown or revoked API key");
  c.set("principal", principal);
  const admitted = await keyQuota(c.env, principal.keyId).admit(
    principal.limits.ratePerMinute,
    principal.limits.tokensPerDay,
  );
  // Set before the handler runs, so that every response (errors and streams too) carries them.
  if (admitted.headroom)
    for (const [name, value] of Object.entries(rateLimitHeaders(admitted.headroom))) c.header(name, value);
  if (!admitted.ok) throw quotaRefused(admitted);
  await next();
});
