/**
 * `/v1/policy`: the policy auto solves use, its versions and history (any key), and re-tuning and rollback
 * (the operator's ADMIN_SECRET). Thin: the work is in src/policyVersions and src/db/policies.
 */
import { Hono } from "hono";
import { ApiError } from "../src/api/errors";
import { jsonBody, type AppEnv } from "../src/api/http";
import { RollbackSchema, UploadPolicySchema } from "../src/api/policySchemas";
import { describeIssue } from "../src/api/schemas";
import { requireAdmin } from "../src/auth/admin";
import { listEvents, listVersions, readVersion, storeAndMove, wasActive } from "../src/db/policies";
import { CALIBRATION_HEADER, calibrationStatus } from "../src/policy/calibrationStatus";
import { configuredPolicy } from "../src/policy/configured";
import { parsePolicy } from "../src/policy/document";
import { activePolicy, storedPolicy } from "../src/policyVersions/active";
import { runRetune } from "../src/policyVersions/retuneJob";

/** Read routes, behind the API key middleware. */
export const policy = new Hono<AppEnv>();

policy.get("/", async (c) => {
  const { policy: doc, since } = await activePolicy(c.env);
  const calibration = calibrationStatus(doc, c.env.PROVIDERS);
  if (calibration.matchesProviders === false) {
    // Not an error (the policy still works), but its choices were measured on other models.
    console.warn(`policy ${doc.version} was calibrated for other providers: ${calibration.differences.join("; ")}`);
    c.header(CALIBRATION_HEADER, "mismatch");
  }
  return c.json({ version: doc.version, since, kind: doc.source.kind, document: doc, calibration });
});

policy.get("/versions", async (c) => {
  const shipped = configuredPolicy(c.env);
  const { policy: active } = await activePolicy(c.env);
  const stored = await listVersions(c.env.DB);
  const data = [
    ...stored.map((v) => ({
      version: v.version,
      kind: v.kind as "retune" | "calibration",
      parent: v.parent,
      outcomes: v.outcomes,
      decision: v.decision,
      reason: v.reason,
      evaluation: JSON.parse(v.evaluation) as unknown,
      active: v.version === active.version,
      createdAt: v.createdAt,
    })),
    {
      version: shipped.version,
      kind: "calibration" as const,
      parent: null,
      outcomes: shipped.source.problems,
      decision: "shipped" as const,
      reason: `calibrated: ${shipped.source.command}`,
      evaluation: null,
      active: shipped.version === active.version,
      createdAt: Date.parse(shipped.createdAt) || 0,
    },
  ];
  return c.json({ active: active.version, data, history: await listEvents(c.env.DB) });
});

/**
 * Admin routes: mounted before the API key middleware, so the operator's secret is the credential (per route:
 * a `use("*")` here would also guard the read routes under the same prefix).
 */
export const policyAdmin = new Hono<AppEnv>();
policyAdmin.post("/retune", requireAdmin, async (c) => {
  const report = await runRetune(c.env, "admin");
  if (!report.retuned) throw new ApiError(422, "unprocessable", report.reason);
  const { policy: active } = await activePolicy(c.env);
  const { retuned: _r, ...shown } = report;
  return c.json({ ...shown, active: active.version }, 201);
});

policyAdmin.post("/rollback", requireAdmin, async (c) => {
  const parsed = RollbackSchema.safeParse(await jsonBody(c));
  if (!parsed.success) throw new ApiError(400, "invalid_request", describeIssue(parsed.error));
  const { version } = parsed.data;
  const shipped = configuredPolicy(c.env);
  const { policy: active } = await activePolicy(c.env);
  if (version !== shipped.version) {
    const row = await readVersion(c.env.DB, version);
    if (!row) throw new ApiError(404, "not_found", `version: no policy version "${version}"`);
    // A rejected re-tune lost its comparison: it may not become active by the back door.
    if (row.decision !== "uploaded" && !(await wasActive(c.env.DB, version)))
      throw new ApiError(
        409,
        "conflict",
        `version: "${version}" was never active (its re-tune was not promoted); a rollback returns to a version that was, or to one the operator uploaded`,
      );
    if (!(await storedPolicy(c.env.DB, version)))
      throw new ApiError(
        409,
        "conflict",
        `version: "${version}" does not validate with this build's features; it cannot be made active`,
      );
  }
  if (version === active.version)
    throw new ApiError(409, "conflict", `version: "${version}" is already the active policy`);
  const at = Date.now();
  const { moved } = await storeAndMove(
    c.env.DB,
    null,
    { from: active.version, to: version, action: "rollback", actor: "admin", shipped: shipped.version },
    at,
  );
  if (!moved)
    throw new ApiError(409, "conflict", "the active policy changed while rolling back; read GET /v1/policy and retry");
  return c.json({ active: version, previous: active.version, at });
});

policyAdmin.post("/versions", requireAdmin, async (c) => {
  const parsed = UploadPolicySchema.safeParse(await jsonBody(c));
  if (!parsed.success) throw new ApiError(400, "invalid_request", describeIssue(parsed.error));
  const checked = parsePolicy(parsed.data.document);
  if (!checked.ok) throw new ApiError(400, "invalid_request", `document: ${checked.error}`);
  const doc = checked.policy;
  const shipped = configuredPolicy(c.env);
  if (doc.version === shipped.version || (await readVersion(c.env.DB, doc.version)))
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
