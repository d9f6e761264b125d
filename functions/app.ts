/**
 * The HTTP routes (Hono). Each route module is thin: validate, authenticate, decide, delegate to `src/`.
 * Errors are thrown as `ApiError` and rendered by one handler (`src/errors/apiError.ts`).
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { ApiError, renderError } from "../src/errors/apiError";
import { docsPage } from "../src/api/docsPage";
import type { AppEnv } from "../src/auth/env";
import { openApiDocument } from "../src/api/openapi";
import { MAX_BODY_BYTES } from "../src/api/schemas";
import { authenticate } from "../src/auth/authenticate";
import { keyQuota } from "../src/quota/stub";
import { admin } from "./admin";
import { openai } from "./openai";
import { policy } from "./policy";
import { solves } from "./solves";
import { webhooks } from "./webhooks";
import { providersFromEnv } from "../src/wiring/providers";

export const app = new Hono<AppEnv>();

/** Response headers a browser page may read. */
const EXPOSED_HEADERS = [
  "x-request-id",
  "x-ttc-ignored-params",
  "x-ratelimit-limit-requests",
  "x-ratelimit-remaining-requests",
  "x-ratelimit-reset-requests",
  "x-ratelimit-limit-tokens",
  "x-ratelimit-remaining-tokens",
  "x-ratelimit-reset-tokens",
  "retry-after",
] as const;

app.use("*", async (c, next) => {
  const requestId = crypto.randomUUID();
  c.set("requestId", requestId);
  await next();
  c.header("x-request-id", requestId);
});

/**
 * CORS for the origins in CORS_ORIGINS (comma-separated; empty: none). Preflights are answered here, before
 * any key is asked for; an origin not listed gets no access-control-allow-origin, so the browser refuses.
 */
app.use("*", (c, next) => {
  const allowed = (c.env.CORS_ORIGINS ?? "")
    .split(",")
    .map((o) => o.trim())
    .filter((o) => o !== "");
  return cors({
    origin: (origin) => (allowed.includes(origin) ? origin : null),
    allowMethods: ["GET", "POST", "DELETE", "OPTIONS"],
    exposeHeaders: [...EXPOSED_HEADERS],
    maxAge: 600,
  })(c, next);
});

// A PROVIDERS value that cannot work (unknown kind or server, a missing secret or binding) is reported here,
// naming the field, so a deployment check fails instead of the first solve.
app.get("/healthz", (c) => {
  const wired = providersFromEnv(c.env.PROVIDERS, c.env as unknown as Record<string, unknown>);
  return wired.ok ? c.json({ ok: true }) : c.json({ ok: false, error: wired.error }, 503);
});
let documented: { json: Record<string, unknown>; html: string } | undefined;
/** Built once per isolate: the document does not change while it runs. */
function documentation() {
  if (!documented) {
    const json = openApiDocument();
    documented = { json, html: docsPage(json as Parameters<typeof docsPage>[0]) };
  }
  return documented;
}
app.get("/openapi.json", (c) => c.json(documentation().json));
app.get("/docs", (c) => c.html(documentation().html));

const limitBody = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: () => {
    throw new ApiError(413, "payload_too_large", `the request body is larger than ${MAX_BODY_BYTES} bytes`);
  },
});
app.use("/v1/*", limitBody);
app.use("/admin/*", limitBody);
// The policy routes take an API key (its tenant's policy) or the operator's ADMIN_SECRET (any policy): they
// authenticate themselves.
app.route("/v1/policy", policy);
app.use("/v1/*", authenticate);

app.route("/v1/solves", solves);
app.route("/v1", openai);
app.route("/v1/webhooks", webhooks);
app.route("/admin", admin);

/** The calling key's limits and today's spend against them. */
app.get("/v1/usage", async (c) => {
  const { keyId, tenantId, limits } = c.get("principal");
  return c.json({
    keyId,
    tenantId,
    ratePerMinute: limits.ratePerMinute,
    defaultSolveBudget: { tokens: limits.defaultSolveTokens, money: limits.defaultSolveMoney },
    ...(await keyQuota(c.env, keyId).usage(limits)),
  });
});

/** A path that exists under another method is a 405 naming the methods it has. */
app.notFound((c) => {
  const methods = methodsFor(c.req.path);
  if (methods.length > 0 && !methods.includes(c.req.method))
    return renderError(
      new ApiError(
        405,
        "method_not_allowed",
        `${c.req.method} is not allowed on ${c.req.path}; use ${methods.join(", ")}`,
        {
          headers: { Allow: methods.join(", ") },
        },
      ),
      c,
    );
  return renderError(new ApiError(404, "not_found", `no route for ${c.req.method} ${c.req.path}`), c);
});

function methodsFor(path: string): string[] {
  const methods = new Set<string>();
  for (const r of app.routes) {
    if (r.method === "ALL" || r.path.includes("*")) continue;
    const pattern = new RegExp(`^${r.path.replace(/:[^/]+/g, "[^/]+").replace(/\/$/, "")}/?$`);
    if (pattern.test(path)) methods.add(r.method);
  }
  return [...methods];
}
app.onError(renderError);
