/**
 * Whether the operator trusts a tenant's feedback to train the global policy (docs/policy-isolation.md). A new
 * tenant is not trusted; only the admin routes change it.
 */
import { drizzle } from "drizzle-orm/d1";
import { eq } from "drizzle-orm";
import { tenants } from "./schema";

export interface TenantTrust {
  id: string;
  name: string;
  createdAt: number;
  trusted: boolean;
}

const columns = { id: tenants.id, name: tenants.name, createdAt: tenants.createdAt, trusted: tenants.trusted };

/** Set the flag; null when there is no such tenant. */
export async function setTenantTrusted(db: D1Database, id: string, trusted: boolean): Promise<TenantTrust | null> {
  const [r] = await drizzle(db)
    .update(tenants)
    .set({ trusted: trusted ? 1 : 0 })
    .where(eq(tenants.id, id))
    .returning(columns);
  return r ? { ...r, trusted: r.trusted === 1 } : null;
}

export async function listTenants(db: D1Database): Promise<TenantTrust[]> {
  const rows = await drizzle(db).select(columns).from(tenants).orderBy(tenants.createdAt, tenants.id);
  return rows.map((r) => ({ ...r, trusted: r.trusted === 1 }));
}
