/** Webhook records in D1: tenants' signing secrets, deliveries with their attempt log, disabled endpoints. */
import { and, desc, eq, getTableColumns, inArray, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { disabledEndpoints, tenants, webhookAttempts, webhookDeliveries } from "../db/schema";
import { endpointIdentity } from "./endpoint";
import { generateSecret } from "./signature";

/** How long the secret before a rotation keeps signing, so receivers can switch over. */
export const ROTATION_OVERLAP_MS = 24 * 3_600_000;

export type Delivery = typeof webhookDeliveries.$inferSelect;

export interface Secrets {
  secret: string;
  previous?: { secret: string; until: number };
}

/** The tenant's secrets in use now (made on first use). */
export async function tenantSecrets(db: D1Database, tenantId: string, now = Date.now()): Promise<Secrets | null> {
  const d = drizzle(db);
  await d
    .update(tenants)
    .set({ webhookSecret: generateSecret() })
    .where(and(eq(tenants.id, tenantId), sql`${tenants.webhookSecret} IS NULL`));
  const [t] = await d.select().from(tenants).where(eq(tenants.id, tenantId)).limit(1);
  if (!t?.webhookSecret) return null;
  const previous =
    t.webhookSecretPrevious && t.webhookSecretPreviousUntil && t.webhookSecretPreviousUntil > now
      ? { secret: t.webhookSecretPrevious, until: t.webhookSecretPreviousUntil }
      : undefined;
  return { secret: t.webhookSecret, ...(previous ? { previous } : {}) };
}

export function signingSecrets(s: Secrets): string[] {
  return s.previous ? [s.secret, s.previous.secret] : [s.secret];
}

export async function rotateSecret(db: D1Database, tenantId: string, now = Date.now()): Promise<Secrets | null> {
  const current = await tenantSecrets(db, tenantId, now);
  if (!current) return null;
  const next = generateSecret();
  await drizzle(db)
    .update(tenants)
    .set({
      webhookSecret: next,
      webhookSecretPrevious: current.secret,
      webhookSecretPreviousUntil: now + ROTATION_OVERLAP_MS,
    })
    .where(eq(tenants.id, tenantId));
  return { secret: next, previous: { secret: current.secret, until: now + ROTATION_OVERLAP_MS } };
}

export async function createDelivery(db: D1Database, row: typeof webhookDeliveries.$inferInsert): Promise<void> {
  await drizzle(db).insert(webhookDeliveries).values(row).onConflictDoNothing();
}

/** An attempt in the log and the delivery's new state, together. */
export async function recordAttempt(
  db: D1Database,
  a: {
    deliveryId: string;
    attempt: number;
    at: number;
    statusCode?: number | undefined;
    error?: string | undefined;
    status: string;
    nextAttemptAt: number | null;
  },
): Promise<void> {
  const d = drizzle(db);
  await d.batch([
    d
      .insert(webhookAttempts)
      .values({
        deliveryId: a.deliveryId,
        attempt: a.attempt,
        at: a.at,
        statusCode: a.statusCode ?? null,
        error: a.error ?? null,
      })
      .onConflictDoNothing(),
    d
      .update(webhookDeliveries)
      .set({
        status: a.status,
        attempts: a.attempt,
        lastStatusCode: a.statusCode ?? null,
        lastError: a.error ?? null,
        nextAttemptAt: a.nextAttemptAt,
        updatedAt: a.at,
      })
      .where(eq(webhookDeliveries.id, a.deliveryId)),
  ]);
}

export async function markPending(db: D1Database, id: string, now: number): Promise<void> {
  await drizzle(db)
    .update(webhookDeliveries)
    .set({ status: "pending", nextAttemptAt: now, updatedAt: now })
    .where(eq(webhookDeliveries.id, id));
}

export async function listDeliveries(
  db: D1Database,
  tenantId: string,
  filter: { status?: string | undefined; solveId?: string | undefined; limit: number },
): Promise<Omit<Delivery, "payload">[]> {
  const { payload: _payload, ...columns } = getTableColumns(webhookDeliveries);
  const conditions = [eq(webhookDeliveries.tenantId, tenantId)];
  if (filter.status) conditions.push(eq(webhookDeliveries.status, filter.status));
  if (filter.solveId) conditions.push(eq(webhookDeliveries.solveId, filter.solveId));
  return drizzle(db)
    .select(columns)
    .from(webhookDeliveries)
    .where(and(...conditions))
    .orderBy(desc(webhookDeliveries.createdAt))
    .limit(filter.limit);
}

export async function getDelivery(
  db: D1Database,
  tenantId: string,
  id: string,
): Promise<(Delivery & { log: (typeof webhookAttempts.$inferSelect)[] }) | null> {
  const d = drizzle(db);
  const [row] = await d
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.tenantId, tenantId)))
    .limit(1);
  if (!row) return null;
  const log = await d
    .select()
    .from(webhookAttempts)
    .where(eq(webhookAttempts.deliveryId, id))
    .orderBy(webhookAttempts.attempt);
  return { ...row, log };
}

/**
 * The disable list is keyed by the endpoint's identity (`endpoint.ts`), so `?x=1` or another spelling of the
 * same URL does not get past it. Rows written before identities were keyed by the URL as given: a lookup
 * matches either.
 */
function endpointKeys(url: string): string[] {
  const identity = endpointIdentity(url);
  return identity === url ? [url] : [identity, url];
}

export async function disableEndpoint(
  db: D1Database,
  tenantId: string,
  url: string,
  deliveryId: string,
  now: number,
): Promise<void> {
  await drizzle(db)
    .insert(disabledEndpoints)
    .values({ tenantId, url: endpointIdentity(url), deliveryId, disabledAt: now })
    .onConflictDoNothing();
}

export async function endpointDisabled(
  db: D1Database,
  tenantId: string,
  url: string,
): Promise<{ disabledAt: number } | null> {
  const [row] = await drizzle(db)
    .select({ disabledAt: disabledEndpoints.disabledAt })
    .from(disabledEndpoints)
    .where(and(eq(disabledEndpoints.tenantId, tenantId), inArray(disabledEndpoints.url, endpointKeys(url))))
    .limit(1);
  return row ?? null;
}

/** Enable an endpoint again, named by any spelling of its URL; false when it was not disabled. */
export async function enableEndpoint(db: D1Database, tenantId: string, url: string): Promise<boolean> {
  const done = await drizzle(db)
    .delete(disabledEndpoints)
    .where(and(eq(disabledEndpoints.tenantId, tenantId), inArray(disabledEndpoints.url, endpointKeys(url))))
    .returning({ url: disabledEndpoints.url });
  return done.length > 0;
}
