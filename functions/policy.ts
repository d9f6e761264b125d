/**
 * `/v1/policy`: the policy auto solves use, its versions and history, re-tuning and rollback — per tenant
 * (docs/policy-isolation.md). An API key addresses its own tenant's policy (which is the global one until the
 * tenant has a version of its own); the operator's ADMIN_SECRET addresses the global policy, or a tenant's with
 * `?tenant=`. Uploads are the operator's and global. Thin: the work is in src/policyVersions and src/db/policies.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { ApiError } from "../src/errors/apiError";
import { jsonBody } from "../src/api/http";
import type { AppEnv } from "../src/auth/env";
import { RollbackSchema, UploadPolicySchema } from "../src/api/policySchemas";
import { invalidRequest } from "../src/api/schemas";
import { adminSecretOf, requireAdmin } from "../src/auth/admin";
import { authenticate } from "../src/auth/authenticate";
import { tenantExists } from "../src/auth/keyStore";
import {
  FOLLOWS_GLOBAL,
  listEvents,
  listVersions,
  readVersion,
  storeAndMove,
  wasActive,
  type PolicyScope,
} from "../src/db/policies";
import { CALIBRATION_HEADER, calibrationStatus } from "../src/wiring/calibrationStatus";
import { configuredPolicy } from "../src/policy/configured";
import { parsePolicy } from "../src/policy/document";
import { activePolicy, activePolicyFor, storedPolicy } from "../src/policyVersions/active";
import { runRetune } from "../src/policyVersions/retuneJob";

interface Caller {
  scope: PolicyScope;
  actor: "admin" | "tenant";
}

async function digest(text: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
}

/**
 * Who is asking and about whose policy: the ADMIN_SECRET (the global policy, or `?tenant=`'s), else an API key
 * (its own tenant's; the key middleware authenticates and rate-limits it as on every /v1 route).
 */
async function policyCaller(c: Context<AppEnv>): Promise<Caller> {
  const secret = adminSecretOf(c.env);
  const given = /^bearer +(\S+) *$/i.exec(c.req.header("authorization") ?? "")?.[1];
  const tenant = c.req.query("tenant");
  if (secret && given && crypto.subtle.timingSafeEqual(await digest(given), await digest(secret))) {
    if (tenant !== undefined && !(await tenantExists(c.env.DB, tenant)))
      throw new ApiError(404, "not_found", `tenant: no tenant "${tenant}"`);
    return { scope: tenant ?? null, actor: "admin" };
  }
  await authenticate(c, async () => {});
  const own = c.get("principal").tenantId;
  // A key reaches its own tenant's policy only; naming another tenant is refused, not silently ignored.
  if (tenant !== undefined && tenant !== own)
    throw new ApiError(403, "forbidden", "tenant: a key addresses only its own tenant's policy");
  return { scope: own, actor: "tenant" };
}

/** Every policy route; mounted before the /v1 key middleware, since the ADMIN_SECRET is a credential here too. */
export const policy = new Hono<AppEnv>();

policy.get("/", async (c) => {
  const { scope } = await policyCaller(c);
  const { policy: doc, since, scope: source } = await activePolicyFor(c.env, scope);
  const calibration = calibrationStatus(doc, c.env.PROVIDERS);
  if (calibration.matchesProviders === false) {
    // Not an error (the policy still works), but its choices were measured on other models.
    console.warn(`policy ${doc.version} was calibrated for other providers: ${calibration.differences.join("; ")}`);
    c.header(CALIBRATION_HEADER, "mismatch");
  }
  return c.json({
    version: doc.version,
    since,
    kind: doc.source.kind,
    tenantId: scope,
    source,
    document: doc,
    calibration,
  });
});

policy.get("/versions", async (c) => {
  const { scope } = await policyCaller(c);
  const shipped = configuredPolicy(c.env);
  const { policy: active, scope: source } = await activePolicyFor(c.env, scope);
  const { policy: global } = await activePolicy(c.env);
  const stored = await listVersions(c.env.DB, scope);
  const data = stored.map((v) => ({
    version: v.version,
    kind: v.kind as "retune" | "calibration",
    parent: v.parent,
    outcomes: v.outcomes,
    decision: v.decision as string,
    reason: v.reason,
    evaluation: JSON.parse(v.evaluation) as unknown,
    active: v.version === active.version,
    createdAt: v.createdAt,
  }));
  // The shipped calibration is a global version; a tenant's list holds only its own.
  if (scope === null)
    data.push({
      version: shipped.version,
      kind: "calibration" as const,
      parent: null,
      outcomes: shipped.source.problems,
      decision: "shipped",
      reason: `calibrated: ${shipped.source.command}`,
      evaluation: null,
      active: shipped.version === active.version,
      createdAt: Date.parse(shipped.createdAt) || 0,
    });
  return c.json({
    active: active.version,
    tenantId: scope,
    source,
    globalActive: global.version,
    data,
    history: await listEvents(c.env.DB, scope),
  });
});

policy.post("/retune", async (c) => {
  const { scope, actor } = await policyCaller(c);
  const report = await runRetune(c.env, actor, scope);
  if (!report.retuned) throw new ApiError(422, "unprocessable", report.reason);
  const { policy: active } = await activePolicyFor(c.env, scope);
  const { retuned: _r, ...shown } = report;
  return c.json({ ...shown, active: active.version }, 201);
});

/** A tenant returns to one of its own versions that was active for it, or to following the global policy. */
async function tenantRollbackTarget(env: Env, scope: string, version: string): Promise<void> {
  if (version === FOLLOWS_GLOBAL) return;
  const row = await readVersion(env.DB, version);
  // Another tenant's version, or a global one, is not this tenant's to activate: as unknown as a missing one.
  if (!row || row.tenantId !== scope)
    throw new ApiError(
      404,
      "not_found",
      `version: this tenant has no policy version "${version}" (to follow the global policy, roll back to "${FOLLOWS_GLOBAL}")`,
    );
  if (!(await wasActive(env.DB, version, scope)))
    throw new ApiError(
      409,
      "conflict",
      `version: "${version}" was never active (its re-tune was not promoted); a rollback returns to a version that was`,
    );
}

async function globalRollbackTarget(env: Env, version: string): Promise<void> {
  if (version === configuredPolicy(env).version) return;
  const row = await readVersion(env.DB, version);
  if (!row || (row.tenantId ?? null) !== null)
    throw new ApiError(404, "not_found", `version: no global policy version "${version}"`);
  // A rejected re-tune lost its comparison: it may not become active by the back door.
  if (row.decision !== "uploaded" && !(await wasActive(env.DB, version)))
    throw new ApiError(
      409,
      "conflict",
      `version: "${version}" was never active (its re-tune was not promoted); a rollback returns to a version that was, or to one the operator uploaded`,
    );
}

policy.post("/rollback", async (c) => {
  const { scope, actor } = await policyCaller(c);
  const parsed = RollbackSchema.safeParse(await jsonBody(c));
  if (!parsed.success) throw invalidRequest(parsed.error);
  const { version } = parsed.data;
  const shipped = configuredPolicy(c.env);
  const current = await activePolicyFor(c.env, scope);
  if (scope === null) await globalRollbackTarget(c.env, version);
  else await tenantRollbackTarget(c.env, scope, version);
  if (version !== FOLLOWS_GLOBAL && version !== shipped.version && !(await storedPolicy(c.env.DB, version)))
    throw new ApiError(
      409,
      "conflict",
      `version: "${version}" does not validate with this build's features; it cannot be made active`,
    );
  // A tenant following the global policy is at FOLLOWS_GLOBAL, whatever the global version is.
  const from = scope !== null && current.scope === "global" ? FOLLOWS_GLOBAL : current.policy.version;
  if (version === from)
    throw new ApiError(
      409,
      "conflict",
      version === FOLLOWS_GLOBAL
        ? "version: this tenant already follows the global policy"
        : `version: "${version}" is already the active policy`,
    );
  const at = Date.now();
  const { moved } = await storeAndMove(
    c.env.DB,
    null,
    { from, to: version, action: "rollback", actor, shipped: shipped.version, tenantId: scope },
    at,
  );
  if (!moved)
    throw new ApiError(409, "conflict", "the active policy changed while rolling back; read GET /v1/policy and retry");
  const now = await activePolicyFor(c.env, scope);
  return c.json({
    active: now.policy.version,
    previous: current.policy.version,
    at,
    tenantId: scope,
    source: now.scope,
  });
});

policy.post("/versions", requireAdmin, async (c) => {
  if (c.req.query("tenant") !== undefined)
    throw new ApiError(
      400,
      "invalid_request",
      "tenant: an uploaded policy is a global version; a tenant's versions come from its own re-tunes",
    );
  const parsed = UploadPolicySchema.safeParse(await jsonBody(c));
  if (!parsed.success) throw invalidRequest(parsed.error);
  const checked = parsePolicy(parsed.data.document);
  if (!checked.ok) throw new ApiError(400, "invalid_request", `document: ${checked.error}`);
  const doc = checked.policy;
  const shipped = configuredPolicy(c.env);
  if (doc.version === shipped.version || doc.version === FOLLOWS_GLOBAL || (await readVersion(c.env.DB, doc.version)))
    throw new ApiError(
      409,
      "conflict",
      `document.version: a policy version "${doc.version}" already exists; give the new one its own version`,
    );
  const { policy: active } = await activePolicy(c.env);
  const at = Date.now();
  const stored = {
    version: doc.version,
    document: JSON.stringify(doc),
    kind: doc.source.kind,
    parent: active.version,
    outcomes: doc.source.problems,
    evaluation: "null",
    decision: "uploaded" as const,
    reason: `uploaded by the operator (${doc.source.command || doc.source.dataset})`,
    createdAt: at,
  };
  const move = parsed.data.activate
    ? { from: active.version, to: doc.version, action: "activate" as const, actor: "admin", shipped: shipped.version }
    : null;
  const { moved } = await storeAndMove(c.env.DB, stored, move, at);
  if (move && !moved)
    throw new ApiError(
      409,
      "conflict",
      `stored version "${doc.version}", but the active policy changed meanwhile and it was not activated; POST /v1/policy/rollback to activate it`,
    );
  return c.json({ version: doc.version, active: move ? doc.version : active.version }, 201);
});
