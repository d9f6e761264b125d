/** `/admin`: tenants and API keys, behind the ADMIN_SECRET. */
import { Hono } from "hono";
import { CreateKeySchema, CreateTenantSchema, TenantTrustSchema } from "../src/api/adminSchemas";
import { ApiError } from "../src/errors/apiError";
import { jsonBody } from "../src/api/http";
import type { AppEnv } from "../src/auth/env";
import { invalidRequest } from "../src/api/schemas";
import { requireAdmin } from "../src/auth/admin";
import { resolveKeyLimits } from "../src/auth/apiKey";
import { createKey, createTenant, listKeys, revokeKey, tenantExists } from "../src/auth/keyStore";
import { listTenants, setTenantTrusted } from "../src/db/tenantTrust";

export const admin = new Hono<AppEnv>();

admin.use("*", requireAdmin);

admin.post("/tenants", async (c) => {
  const parsed = CreateTenantSchema.safeParse(await jsonBody(c));
  if (!parsed.success) throw invalidRequest(parsed.error);
  return c.json(await createTenant(c.env.DB, parsed.data.name), 201);
});

admin.get("/tenants", async (c) => c.json({ data: await listTenants(c.env.DB) }));

/** Trust a tenant's feedback to train the global policy, or stop trusting it (the next global re-tune reads the flag). */
admin.post("/tenants/:id/trust", async (c) => {
  const parsed = TenantTrustSchema.safeParse(await jsonBody(c));
  if (!parsed.success) throw invalidRequest(parsed.error);
  const row = await setTenantTrusted(c.env.DB, c.req.param("id"), parsed.data.trusted);
  if (!row) throw new ApiError(404, "not_found", `no tenant "${c.req.param("id")}"`);
  return c.json(row);
});

admin.post("/keys", async (c) => {
  const parsed = CreateKeySchema.safeParse(await jsonBody(c));
  if (!parsed.success) throw invalidRequest(parsed.error);
  const { tenantId, name, limits } = parsed.data;
  if (!(await tenantExists(c.env.DB, tenantId)))
    throw new ApiError(404, "not_found", `tenantId: no tenant "${tenantId}"`);
  const resolved = resolveKeyLimits(limits);
  if (!resolved.ok) throw new ApiError(400, "invalid_request", resolved.error);
  const made = await createKey(c.env.DB, tenantId, name, resolved.limits);
  const { hash: _hash, ...shown } = made.row;
  return c.json({ key: made.key, ...shown }, 201);
});

admin.get("/keys", async (c) => c.json({ data: await listKeys(c.env.DB, c.req.query("tenantId")) }));

admin.post("/keys/:id/revoke", async (c) => {
  if (!(await revokeKey(c.env.DB, c.req.param("id"))))
    throw new ApiError(404, "not_found", `no active key "${c.req.param("id")}"`);
  return c.json({ id: c.req.param("id"), revoked: true });
});
