/** Tenants and API keys in D1. */
import { and, eq, getTableColumns, isNull } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { apiKeys, tenants } from "../db/schema";
import { hashApiKey, newKey, type KeyLimits, type NewKey } from "./apiKey";

/** The caller behind a request's key. */
export interface Principal {
  keyId: string;
  tenantId: string;
  limits: KeyLimits;
}

export type KeyListing = Omit<typeof apiKeys.$inferSelect, "hash">;

export async function createTenant(
  db: D1Database,
  name: string,
  now = Date.now(),
): Promise<{ id: string; name: string; createdAt: number }> {
  const row = { id: `ten_${crypto.randomUUID()}`, name, createdAt: now };
  await drizzle(db).insert(tenants).values(row);
  return row;
}

export async function tenantExists(db: D1Database, id: string): Promise<boolean> {
  return (await drizzle(db).select({ id: tenants.id }).from(tenants).where(eq(tenants.id, id)).limit(1)).length > 0;
}

export async function createKey(
  db: D1Database,
  tenantId: string,
  name: string,
  limits: Partial<KeyLimits> = {},
): Promise<NewKey> {
  const made = await newKey(tenantId, name, limits);
  await drizzle(db).insert(apiKeys).values(made.row);
  return made;
}

/** The principal for a presented key, or null when it is unknown or revoked. */
export async function findPrincipal(db: D1Database, key: string): Promise<Principal | null> {
  const hash = await hashApiKey(key);
  const [row] = await drizzle(db)
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.hash, hash), isNull(apiKeys.revokedAt)))
    .limit(1);
  if (!row) return null;
  const { ratePerMinute, tokensPerDay, moneyPerDay, defaultSolveTokens, defaultSolveMoney } = row;
  return {
    keyId: row.id,
    tenantId: row.tenantId,
    limits: { ratePerMinute, tokensPerDay, moneyPerDay, defaultSolveTokens, defaultSolveMoney },
  };
}

export async function listKeys(db: D1Database, tenantId?: string): Promise<KeyListing[]> {
  const { hash: _hash, ...columns } = getTableColumns(apiKeys);
  const q = drizzle(db).select(columns).from(apiKeys);
  return tenantId ? q.where(eq(apiKeys.tenantId, tenantId)) : q;
}

/** Revoke a key; false when there is no such active key. */
export async function revokeKey(db: D1Database, id: string, now = Date.now()): Promise<boolean> {
  const done = await drizzle(db)
    .update(apiKeys)
    .set({ revokedAt: now })
    .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
    .returning({ id: apiKeys.id });
  return done.length > 0;
}
