/**
 * Policy versions in D1: the stored versions, the pointer to the active one, its history, and the labelled
 * outcomes a re-tune learns from. A version row is written whole; the pointer moves in the same batch
 * (one transaction), and only if it still points where the caller saw it.
 */
import { drizzle } from "drizzle-orm/d1";
import { desc, eq } from "drizzle-orm";
import type { StrategySpec } from "../engine/strategies";
import type { LoggedOutcome } from "../policy/retune";
import { policyActive, policyEvents, policyVersions } from "./schema";

export interface StoredVersion {
  version: string;
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

export async function readActivePointer(db: D1Database): Promise<ActivePointer | null> {
  const [r] = await drizzle(db).select().from(policyActive).where(eq(policyActive.id, 1)).limit(1);
  return r ? { version: r.version, since: r.since } : null;
}

export async function readVersion(db: D1Database, version: string): Promise<StoredVersion | null> {
  const [r] = await drizzle(db).select().from(policyVersions).where(eq(policyVersions.version, version)).limit(1);
  return r ? (r as StoredVersion) : null;
}

/** Stored versions, newest first, without their documents. */
export async function listVersions(db: D1Database, limit = 100): Promise<Omit<StoredVersion, "document">[]> {
  const rows = await drizzle(db)
    .select({
      version: policyVersions.version,
      kind: policyVersions.kind,
      parent: policyVersions.parent,
      outcomes: policyVersions.outcomes,
      evaluation: policyVersions.evaluation,
      decision: policyVersions.decision,
      reason: policyVersions.reason,
      createdAt: policyVersions.createdAt,
    })
    .from(policyVersions)
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

export async function listEvents(db: D1Database, limit = 100): Promise<PolicyEvent[]> {
  const rows = await drizzle(db)
    .select()
    .from(policyEvents)
    .orderBy(desc(policyEvents.at), desc(policyEvents.id))
    .limit(limit);
  return rows.map(({ id: _id, ...e }) => e as PolicyEvent);
}

/** Whether a version was ever the active one (a rollback may only return to such a version). */
export async function wasActive(db: D1Database, version: string): Promise<boolean> {
  const r = await db
    .prepare("SELECT 1 AS x FROM policy_events WHERE to_version = ?1 OR from_version = ?1 LIMIT 1")
    .bind(version)
    .first<{ x: number }>();
  return r !== null;
}

/**
 * Move the active pointer from `from` to `to` (and log it) in one transaction, optionally storing a new version
 * first. The move happens only if the pointer still says `from` (`from` is the shipped version while the table
 * is empty); the answer says whether it did.
 */
export async function storeAndMove(
  db: D1Database,
  store: StoredVersion | null,
  move: { from: string; to: string; action: PolicyEvent["action"]; actor: string; shipped: string } | null,
  now: number,
): Promise<{ moved: boolean }> {
  const statements: D1PreparedStatement[] = [];
  if (store) {
    statements.push(
      db
        .prepare(
          "INSERT INTO policy_versions (version, document, kind, parent, outcomes, evaluation, decision, reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(
          store.version,
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
  if (move) {
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
  }
  if (statements.length === 0) return { moved: false };
  const results = await db.batch(statements);
  if (!move) return { moved: false };
  return { moved: (results[results.length - 1]?.meta.changes ?? 0) > 0 };
}

/** When the last re-tune was attempted (a stored version), or 0. */
export async function lastRetuneAt(db: D1Database): Promise<number> {
  const r = await db.prepare("SELECT max(created_at) AS at FROM policy_versions").first<{ at: number | null }>();
  return r?.at ?? 0;
}

/** Labelled outcomes whose (latest) report arrived after `since`. */
export async function countOutcomesSince(db: D1Database, since: number): Promise<number> {
  const r = await db
    .prepare(
      "SELECT count(DISTINCT f.solve_id) AS n FROM solve_feedback f JOIN solves s ON s.id = f.solve_id WHERE s.policy_version IS NOT NULL AND s.features IS NOT NULL AND f.created_at > ?",
    )
    .bind(since)
    .first<{ n: number }>();
  return r?.n ?? 0;
}

interface OutcomeRow {
  id: string;
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

/**
 * The newest `limit` auto solves with a reported outcome (the latest report per solve), as a re-tune reads
 * them. The prompt itself is never stored: the estimator's features are.
 */
export async function labelledOutcomes(db: D1Database, limit: number): Promise<LoggedOutcome[]> {
  const { results } = await db
    .prepare(
      `SELECT s.id, s.features, s.spec, s.budget, s.generator_tokens + s.verifier_tokens AS tokens, s.money, s.flops, s.generations, s.cap_tokens, s.cap_cost, s.exploration, s.propensity,
              (SELECT f.correct FROM solve_feedback f WHERE f.solve_id = s.id ORDER BY f.created_at DESC, f.id DESC LIMIT 1) AS correct
         FROM solves s
        WHERE s.policy_version IS NOT NULL AND s.features IS NOT NULL AND EXISTS (SELECT 1 FROM solve_feedback f WHERE f.solve_id = s.id)
        ORDER BY s.finished_at DESC LIMIT ?`,
    )
    .bind(limit)
    .all<OutcomeRow>();
  const out: LoggedOutcome[] = [];
  for (const r of results) {
    try {
      const budget = JSON.parse(r.budget) as { generations?: number };
      out.push({
        solveId: r.id,
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
