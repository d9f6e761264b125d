/** `/v1/webhooks`: the tenant's signing secret, the delivery log, replays, and re-enabling an endpoint. */
import { Hono } from "hono";
import { ApiError } from "../src/errors/apiError";
import { jsonBody } from "../src/api/http";
import type { AppEnv } from "../src/auth/env";
import { invalidRequest } from "../src/api/schemas";
import { sessionOf } from "../src/api/startSolve";
import { EnableEndpointSchema, ListDeliveriesQuerySchema } from "../src/webhooks/schemas";
import {
  enableEndpoint,
  getDelivery,
  listDeliveries,
  markPending,
  rotateSecret,
  tenantSecrets,
} from "../src/webhooks/store";

export const webhooks = new Hono<AppEnv>();

const secretView = (s: { secret: string; previous?: { until: number } }) => ({
  secret: s.secret,
  ...(s.previous ? { previousValidUntil: new Date(s.previous.until).toISOString() } : {}),
});

webhooks.get("/secret", async (c) => {
  const s = await tenantSecrets(c.env.DB, c.get("principal").tenantId);
  if (!s) throw new Error(`tenant ${c.get("principal").tenantId} has no record`);
  return c.json(secretView(s));
});

webhooks.post("/secret/rotate", async (c) => {
  const s = await rotateSecret(c.env.DB, c.get("principal").tenantId);
  if (!s) throw new Error(`tenant ${c.get("principal").tenantId} has no record`);
  return c.json(secretView(s));
});

webhooks.get("/deliveries", async (c) => {
  const parsed = ListDeliveriesQuerySchema.safeParse(c.req.query());
  if (!parsed.success) throw invalidRequest(parsed.error);
  return c.json({ data: await listDeliveries(c.env.DB, c.get("principal").tenantId, parsed.data) });
});

webhooks.get("/deliveries/:id", async (c) => {
  const d = await getDelivery(c.env.DB, c.get("principal").tenantId, c.req.param("id"));
  if (!d) throw new ApiError(404, "not_found", `no delivery "${c.req.param("id")}"`);
  return c.json(d);
});

/** Send a delivery again, with the same webhook-id (receivers deduplicate by it). */
webhooks.post("/deliveries/:id/replay", async (c) => {
  const tenantId = c.get("principal").tenantId;
  const d = await getDelivery(c.env.DB, tenantId, c.req.param("id"));
  if (!d) throw new ApiError(404, "not_found", `no delivery "${c.req.param("id")}"`);
  if (d.status === "pending")
    throw new ApiError(
      409,
      "conflict",
      `delivery ${d.id} is still pending (next attempt ${d.nextAttemptAt ? new Date(d.nextAttemptAt).toISOString() : "now"})`,
    );
  if (d.status === "disabled")
    throw new ApiError(
      409,
      "conflict",
      `the endpoint of delivery ${d.id} is disabled; enable it with POST /v1/webhooks/endpoints/enable first`,
    );
  const replayed = await sessionOf(c.env, d.solveId).replayWebhook(tenantId, {
    id: d.id,
    url: d.url,
    body: d.payload,
    attempts: d.attempts,
  });
  if (!replayed.ok) throw new ApiError(404, "not_found", `the solve of delivery ${d.id} is gone`);
  await markPending(c.env.DB, d.id, Date.now());
  return c.json({ id: d.id, status: "pending" }, 202);
});

webhooks.post("/endpoints/enable", async (c) => {
  const parsed = EnableEndpointSchema.safeParse(await jsonBody(c));
  if (!parsed.success) throw invalidRequest(parsed.error);
  if (!(await enableEndpoint(c.env.DB, c.get("principal").tenantId, parsed.data.url)))
    throw new ApiError(404, "not_found", `url: no disabled endpoint "${parsed.data.url}"`);
  return c.json({ url: parsed.data.url, enabled: true });
});
