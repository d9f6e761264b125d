/**
 * Middleware for admin routes: the ADMIN_SECRET Worker secret as a bearer token. Without the secret set,
 * admin routes are off. Compared by digest, in constant time.
 */
import { createMiddleware } from "hono/factory";
import { ApiError } from "../errors/apiError";
import type { AppEnv } from "./env";
import { refuseUnauthenticated } from "./throttle";

async function digest(text: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
}

export function adminSecretOf(env: Env): string | undefined {
  const secret = (env as unknown as { ADMIN_SECRET?: unknown }).ADMIN_SECRET;
  return typeof secret === "string" && secret.length > 0 ? secret : undefined;
}

export const requireAdmin = createMiddleware<AppEnv>(async (c, next) => {
  const secret = adminSecretOf(c.env);
  if (!secret)
    throw new ApiError(
      403,
      "forbidden",
      "admin routes are disabled: set the ADMIN_SECRET secret (npx wrangler secret put ADMIN_SECRET)",
    );
  const m = /^bearer +(\S+) *$/i.exec(c.req.header("authorization") ?? "");
  const given = m?.[1];
  const same = given !== undefined && crypto.subtle.timingSafeEqual(await digest(given), await digest(secret));
  // A wrong secret counts against the client's address, as a bad API key does (throttle.ts).
  if (!same)
    return refuseUnauthenticated(
      c.env,
      c.req.raw,
      new ApiError(401, "unauthorized", "admin routes need Authorization: Bearer <ADMIN_SECRET>", {
        headers: { "WWW-Authenticate": 'Bearer realm="ttc-edge-admin"' },
      }),
    );
  await next();
});
