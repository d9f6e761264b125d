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
