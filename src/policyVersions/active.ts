/**
 * The policy auto solves use: the version D1's pointer names, or the shipped calibration (the POLICY var)
 * while there is none. A tenant's auto solves use the tenant's own active version when it has one (its
 * pointer in `policy_tenant_active`), else the global one (docs/policy-isolation.md).
 * Each call reads the pointer (one indexed row), so a promotion or rollback takes effect on the next request
 * in every isolate; documents are parsed once per version per isolate. A stored document that no longer
 * validates (a build whose features changed) is not used: the shipped policy is, and the error is logged.
 */
import { readActivePointer, readVersion, type PolicyScope } from "../db/policies";
import { parsePolicy, type PolicyDocument } from "../policy/document";
import { configuredPolicy } from "../policy/configured";

const parsed = new Map<string, PolicyDocument | null>();

export interface ActivePolicy {
  policy: PolicyDocument;
  /** When it became active (ms since the epoch); null for the shipped policy before any promotion. */
  since: number | null;
  /** Whose version it is: the tenant's own, or the global policy's (which a tenant follows until it has its own). */
  scope: "tenant" | "global";
}

/** A stored version's document, validated (null when it is not stored or does not validate). */
export async function storedPolicy(db: D1Database, version: string): Promise<PolicyDocument | null> {
  if (parsed.has(version)) return parsed.get(version) ?? null;
  const row = await readVersion(db, version);
  if (!row) return null;
  let r: ReturnType<typeof parsePolicy>;
  try {
    r = parsePolicy(JSON.parse(row.document));
  } catch (err) {
    r = { ok: false, error: `not JSON: ${String(err)}` };
  }
  if (!r.ok) console.error(`policy version ${version} in D1 does not validate: ${r.error}`);
  parsed.set(version, r.ok ? r.policy : null);
  return r.ok ? r.policy : null;
}

/** The active global policy: D1's pointer, else the shipped policy the POLICY var names. */
export async function activePolicy(env: Env): Promise<ActivePolicy> {
  const db = env.DB;
  const shipped = configuredPolicy(env);
  const pointer = await readActivePointer(db);
  if (!pointer || pointer.version === shipped.version)
    return { policy: shipped, since: pointer?.since ?? null, scope: "global" };
  const stored = await storedPolicy(db, pointer.version);
  return stored
    ? { policy: stored, since: pointer.since, scope: "global" }
    : { policy: shipped, since: null, scope: "global" };
}

/**
 * The policy a scope's auto solves use: for a tenant, its own active version if it has one (and it still
 * validates), else the global policy; for null, the global policy.
 */
export async function activePolicyFor(env: Env, scope: PolicyScope): Promise<ActivePolicy> {
  if (scope !== null) {
    const pointer = await readActivePointer(env.DB, scope);
    const own = pointer ? await storedPolicy(env.DB, pointer.version) : null;
    if (pointer && own) return { policy: own, since: pointer.since, scope: "tenant" };
  }
  return activePolicy(env);
}
