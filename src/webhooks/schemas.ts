/** Request shapes of the webhook routes. */
import { z } from "zod";

export const ListDeliveriesQuerySchema = z
  .object({
    status: z.enum(["pending", "delivered", "failed", "disabled"]).optional(),
    solveId: z.string().max(100).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(50),
  })
  .strict();

export const EnableEndpointSchema = z.object({ url: z.string().max(2048) }).strict();

export const WebhookSecretSchema = z.object({ secret: z.string(), previousValidUntil: z.string().optional() });

export const DeliverySchema = z.object({
  id: z.string().describe("the webhook-id"),
  tenantId: z.string(),
  solveId: z.string(),
  url: z.string(),
  eventType: z.enum(["solve.completed", "solve.failed"]),
  status: z.enum(["pending", "delivered", "failed", "disabled"]),
  attempts: z.number().int(),
  lastStatusCode: z.number().int().nullable(),
  lastError: z.string().nullable(),
  nextAttemptAt: z.number().int().nullable(),
  createdAt: z.number().int(),
  updatedAt: z.number().int(),
});

export const DeliveryDetailSchema = DeliverySchema.extend({
  payload: z.string(),
  log: z.array(
    z.object({
      deliveryId: z.string(),
      attempt: z.number().int(),
      at: z.number().int(),
      statusCode: z.number().int().nullable(),
      error: z.string().nullable(),
    }),
  ),
});
