/** `/admin`: tenants and API keys, behind the ADMIN_SECRET. */
import { Hono } from "hono";
import { CreateKeySchema, CreateTenantSchema } from "../src/api/adminSchemas";
import { ApiError } from "../src/api/errors";
import { jsonBody, type AppEnv } from "../src/api/http";
import { describeIssue } from "../src/api/schemas";
import { requireAdmin } from "../src/auth/admin";
import { resolveKeyLimits } from "../src/auth/apiKey";
import { createKey, createTenant, listKeys, revokeKey, tenantExists } from "../src/auth/keyStore";

export const admin = new Hono<AppEnv>();

admin.use("*", requireAdmin);

admin.post("/tenants", async (c) => {
  const parsed = CreateTenantSchema.safeParse(await jsonBody(c));
  if (!parsed.success) throw new ApiError(400, "invalid_request", describeIssue(parsed.error));
  return c.json(await createTenant(c.env.DB, parsed.data.name), 201);
});

admin.post("/keys", async (c) => {
  const parsed = CreateKeySchema.safeParse(await jsonBody(c));
  if (!parsed.success) throw new ApiError(400, "invalid_request", describeIssue(parsed.error));
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
