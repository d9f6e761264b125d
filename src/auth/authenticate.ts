/**
 * Middleware for `/v1`: the caller's API key (Authorization: Bearer) becomes `c.var.principal`, and the
 * key's rate limit is applied (its KeyQuota object counts). Refusals name what is wrong, and are throttled
 * per client address.
 */
import { createMiddleware } from "hono/factory";
import { ApiError } from "../errors/apiError";
import type { AppEnv } from "./env";
import { quotaRefused } from "../quota/refusal";
import { keyQuota } from "../quota/stub";
import { KEY_PREFIX } from "./apiKey";
import { findPrincipal } from "./keyStore";
import { refuseUnauthenticated } from "./throttle";

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
  const admitted = await keyQuota(c.env, principal.keyId).admit(principal.limits.ratePerMinute);
  if (!admitted.ok) throw quotaRefused(admitted);
  await next();
});
