/**
 * Policy versions in D1: the stored versions, the pointer to the active one, its history, and the labelled
 * outcomes a re-tune learns from. A version row is written whole; the pointer moves in the same batch
 * (one transaction), and only if it still points where the caller saw it.
 *
 * Every function takes a scope: null for the global policy, or a tenant id for that tenant's own policy
 * (its versions, its pointer in `policy_tenant_active`, its history). A tenant without a pointer follows the
 * global policy; its pointer's "from" is then the word `global` (FOLLOWS_GLOBAL).
 */
import { drizzle } from "drizzle-orm/d1";
import { desc, eq, isNull, type SQL } from "drizzle-orm";
import type { StrategySpec } from "../engine/strategies";
import type { LoggedOutcome } from "../policy/retune";
import { policyActive, policyEvents, policyTenantActive, policyVersions } from "./schema";

/** null: the global policy; a tenant id: that tenant's own policy. */
export type PolicyScope = string | null;

/** What a tenant's pointer reads as while it has none: it follows the global policy. */
export const FOLLOWS_GLOBAL = "global";

export interface StoredVersion {
  version: string;
  /** The tenant whose version it is; null (or absent) for the global policy. */
  tenantId?: string | null;
  document: string;
  kind: string;
  parent: string | null;
  outcomes: number;
  evaluation: string;
  decision: "promoted" | "rejected" | "uploaded";
  reason: string;
  createdAt: number;
}

export interface ActivePointer {
  version: string;
  since: number;
}

export async function readActivePointer(db: D1Database, scope: PolicyScope = null): Promise<ActivePointer | null> {
  if (scope !== null) {
    const [t] = await drizzle(db)
      .select()
      .from(policyTenantActive)
      .where(eq(policyTenantActive.tenantId, scope))
      .limit(1);
    return t ? { version: t.version, since: t.since } : null;
  }
  const [r] = await drizzle(db).select().from(policyActive).where(eq(policyActive.id, 1)).limit(1);
  return r ? { version: r.version, since: r.since } : null;
}

const scopeIs = (column: typeof policyVersions.tenantId | typeof policyEvents.tenantId, scope: PolicyScope): SQL =>
  scope === null ? isNull(column) : eq(column, scope);

export async function readVersion(db: D1Database, version: string): Promise<StoredVersion | null> {
  const [r] = await drizzle(db).select().from(policyVersions).where(eq(policyVersions.version, version)).limit(1);
  return r ? (r as StoredVersion) : null;
}

/** A scope's stored versions, newest first, without their documents. */
export async function listVersions(
  db: D1Database,
  scope: PolicyScope = null,
  limit = 100,
): Promise<Omit<StoredVersion, "document">[]> {
  const rows = await drizzle(db)
    .select({
      version: policyVersions.version,
      tenantId: policyVersions.tenantId,
      kind: policyVersions.kind,
      parent: policyVersions.parent,
      outcomes: policyVersions.outcomes,
      evaluation: policyVersions.evaluation,
      decision: policyVersions.decision,
      reason: policyVersions.reason,
      createdAt: policyVersions.createdAt,
    })
    .from(policyVersions)
    .where(scopeIs(policyVersions.tenantId, scope))
    .orderBy(desc(policyVersions.createdAt), desc(policyVersions.version))
    .limit(limit);
  return rows as Omit<StoredVersion, "document">[];
}

export interface PolicyEvent {
  at: number;
  action: "promote" | "activate" | "rollback";
  fromVersion: string;
  toVersion: string;
  actor: string;
}

export async function listEvents(db: D1Database, scope: PolicyScope = null, limit = 100): Promise<PolicyEvent[]> {
  const rows = await drizzle(db)
    .select()
    .from(policyEvents)
    .where(scopeIs(policyEvents.tenantId, scope))
    .orderBy(desc(policyEvents.at), desc(policyEvents.id))
    .limit(limit);
  return rows.map(({ id: _id, tenantId: _t, ...e }) => e as PolicyEvent);
}

/** Whether a version was ever the scope's active one (a rollback may only return to such a version). */
export async function wasActive(db: D1Database, version: string, scope: PolicyScope = null): Promise<boolean> {
  const r = await db
    .prepare(
      "SELECT 1 AS x FROM policy_events WHERE (to_version = ?1 OR from_version = ?1) AND tenant_id IS ?2 LIMIT 1",
    )
    .bind(version, scope)
    .first<{ x: number }>();
  return r !== null;
}

/**
 * Move a scope's active pointer from `from` to `to` (and log it) in one transaction, optionally storing a new
 * version first. The move happens only if the pointer still says `from` (an empty global table reads as the
 * shipped version, a tenant without a pointer as FOLLOWS_GLOBAL); the answer says whether it did. A tenant's
 * move `to` FOLLOWS_GLOBAL removes its pointer.
 */
export async function storeAndMove(
  db: D1Database,
  store: StoredVersion | null,
  move: {
    from: string;
    to: string;
    action: PolicyEvent["action"];
    actor: string;
    shipped: string;
    /** Whose pointer: null (the default) for the global one. */
    tenantId?: string | null;
  } | null,
  now: number,
): Promise<{ moved: boolean }> {
  const statements: D1PreparedStatement[] = [];
  if (store) {
    statements.push(
      db
        .prepare(
          "INSERT INTO policy_versions (version, tenant_id, document, kind, parent, outcomes, evaluation, decision, reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(
          store.version,
          store.tenantId ?? null,
          store.document,
          store.kind,
          store.parent,
          store.outcomes,
          store.evaluation,
          store.decision,
          store.reason,
          store.createdAt,
        ),
    );
  }
  const tenant = move?.tenantId ?? null;
  if (move && tenant === null) {
    // The event first, while the pointer still says where it was (an empty table reads as the shipped version).
    statements.push(
      db
        .prepare(
          "INSERT INTO policy_events (at, action, from_version, to_version, actor) SELECT ?1, ?2, ?3, ?4, ?5 WHERE coalesce((SELECT version FROM policy_active WHERE id = 1), ?6) = ?3",
        )
        .bind(now, move.action, move.from, move.to, move.actor, move.shipped),
      db
        .prepare(
          "INSERT INTO policy_active (id, version, since) SELECT 1, ?1, ?2 WHERE coalesce((SELECT version FROM policy_active WHERE id = 1), ?4) = ?3 ON CONFLICT (id) DO UPDATE SET version = excluded.version, since = excluded.since",
        )
        .bind(move.to, now, move.from, move.shipped),
    );
  } else if (move) {
    const current = `coalesce((SELECT version FROM policy_tenant_active WHERE tenant_id = ?6), '${FOLLOWS_GLOBAL}')`;
    statements.push(
      db
        .prepare(
          `INSERT INTO policy_events (at, action, from_version, to_version, actor, tenant_id) SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE ${current} = ?3`,
        )
        .bind(now, move.action, move.from, move.to, move.actor, tenant),
      move.to === FOLLOWS_GLOBAL
        ? db.prepare("DELETE FROM policy_tenant_active WHERE tenant_id = ?1 AND version = ?2").bind(tenant, move.from)
        : db
            .prepare(
              `INSERT INTO policy_tenant_active (tenant_id, version, since) SELECT ?6, ?4, ?1 WHERE ${current} = ?3 ON CONFLICT (tenant_id) DO UPDATE SET version = excluded.version, since = excluded.since`,
            )
            .bind(now, move.action, move.from, move.to, move.actor, tenant),
    );
  }
  if (statements.length === 0) return { moved: false };
  const results = await db.batch(statements);
  if (!move) return { moved: false };
  return { moved: (results[results.length - 1]?.meta.changes ?? 0) > 0 };
}

/** When the scope's last re-tune was attempted (a stored version), or 0. */
export async function lastRetuneAt(db: D1Database, scope: PolicyScope = null): Promise<number> {
  const r = await db
    .prepare("SELECT max(created_at) AS at FROM policy_versions WHERE tenant_id IS ?")
    .bind(scope)
    .first<{ at: number | null }>();
  return r?.at ?? 0;
}

/**
 * Which labelled outcomes a re-tune learns from: one tenant's (its own solves, reported by itself), or those of
 * every tenant the operator marked trusted (the global fit).
 */
export type OutcomeSource = { tenantId: string } | { trusted: true };

function sourceFilter(source: OutcomeSource): { sql: string; bind: unknown[] } {
  // A report counts only from the solve's own tenant (the feedback route checks it; the query does too).
  const own = "EXISTS (SELECT 1 FROM solve_feedback f WHERE f.solve_id = s.id AND f.tenant_id = s.tenant_id)";
  return "tenantId" in source
    ? { sql: `s.tenant_id = ? AND ${own}`, bind: [source.tenantId] }
    : { sql: `s.tenant_id IN (SELECT id FROM tenants WHERE trusted = 1) AND ${own}`, bind: [] };
}

/** A source's labelled outcomes whose (latest) report arrived after `since`. */
export async function countOutcomesSince(db: D1Database, since: number, source: OutcomeSource): Promise<number> {
  const filter = sourceFilter(source);
  const r = await db
    .prepare(
      `SELECT count(DISTINCT f.solve_id) AS n FROM solve_feedback f JOIN solves s ON s.id = f.solve_id WHERE s.policy_version IS NOT NULL AND s.features IS NOT NULL AND f.tenant_id = s.tenant_id AND f.created_at > ? AND ${filter.sql}`,
    )
    .bind(since, ...filter.bind)
    .first<{ n: number }>();
  return r?.n ?? 0;
}

/**
 * Tenants whose own re-tune is due: at least `minTotal` labelled outcomes in all and `minNew` reported since
 * their last re-tune, most new outcomes first, at most `limit` of them (the cron's bounded work per run).
 */
export async function tenantsDue(
  db: D1Database,
  minTotal: number,
  minNew: number,
  limit: number,
): Promise<{ tenantId: string; total: number; fresh: number }[]> {
  const { results } = await db
    .prepare(
      `WITH labelled AS (
         SELECT s.tenant_id AS tenant_id, f.solve_id AS solve_id, max(f.created_at) AS at
           FROM solve_feedback f JOIN solves s ON s.id = f.solve_id
          WHERE s.policy_version IS NOT NULL AND s.features IS NOT NULL AND s.tenant_id IS NOT NULL AND f.tenant_id = s.tenant_id
          GROUP BY s.tenant_id, f.solve_id)
       SELECT l.tenant_id AS tenantId, count(*) AS total,
              sum(CASE WHEN l.at > coalesce((SELECT max(v.created_at) FROM policy_versions v WHERE v.tenant_id = l.tenant_id), 0) THEN 1 ELSE 0 END) AS fresh
         FROM labelled l GROUP BY l.tenant_id
       HAVING total >= ?1 AND fresh >= ?2
        ORDER BY fresh DESC, l.tenant_id LIMIT ?3`,
    )
    .bind(minTotal, minNew, limit)
    .all<{ tenantId: string; total: number; fresh: number }>();
  return results;
}

interface OutcomeRow {
  id: string;
  tenant_id: string | null;
  features: string;
  spec: string;
  budget: string;
  tokens: number;
  money: number;
  flops: number;
  generations: number;
  cap_tokens: number | null;
  cap_cost: number | null;
  exploration: number | null;
  propensity: number | null;
  correct: number;
}

/** A labelled outcome and the tenant it came from (the source a shared fit caps). */
export type SourcedOutcome = LoggedOutcome & { tenantId: string | null };

/**
 * The newest `limit` auto solves of a source with a reported outcome (the latest report per solve, by the
 * solve's own tenant), as a re-tune reads them. The prompt itself is never stored: the estimator's features are.
 */
export async function labelledOutcomes(
  db: D1Database,
  limit: number,
  source: OutcomeSource,
): Promise<SourcedOutcome[]> {
  const filter = sourceFilter(source);
  const { results } = await db
    .prepare(
      `SELECT s.id, s.tenant_id, s.features, s.spec, s.budget, s.generator_tokens + s.verifier_tokens AS tokens, s.money, s.flops, s.generations, s.cap_tokens, s.cap_cost, s.exploration, s.propensity,
              (SELECT f.correct FROM solve_feedback f WHERE f.solve_id = s.id AND f.tenant_id = s.tenant_id ORDER BY f.created_at DESC, f.id DESC LIMIT 1) AS correct
         FROM solves s
        WHERE s.policy_version IS NOT NULL AND s.features IS NOT NULL AND ${filter.sql}
        ORDER BY s.finished_at DESC LIMIT ?`,
    )
    .bind(...filter.bind, limit)
    .all<OutcomeRow>();
  const out: SourcedOutcome[] = [];
  for (const r of results) {
    try {
      const budget = JSON.parse(r.budget) as { generations?: number };
      out.push({
        solveId: r.id,
        tenantId: r.tenant_id,
        features: JSON.parse(r.features) as number[],
        spec: JSON.parse(r.spec) as StrategySpec,
        tokens: r.tokens,
        money: r.money,
        flops: r.flops,
        generations: r.generations,
        correct: r.correct === 1,
        capTokens: r.cap_tokens,
        capCost: r.cap_cost,
        maxGenerations: typeof budget.generations === "number" ? budget.generations : null,
        exploration: r.exploration === 1,
        propensity: r.propensity,
      });
    } catch {
      // A row that does not parse is not an outcome anyone can learn from; it is skipped, not fatal.
    }
  }
  return out;
}
