/** Request bodies of the admin routes (tenants and keys). */
import { z } from "zod";

export const CreateTenantSchema = z.object({ name: z.string().trim().min(1).max(200) }).strict();

export const KeyLimitsSchema = z
  .object({
    ratePerMinute: z.number().int().min(1).max(100_000),
    tokensPerDay: z.number().int().min(1),
    moneyPerDay: z.number().positive(),
    defaultSolveTokens: z.number().int().min(1),
    defaultSolveMoney: z.number().positive(),
  })
  .partial()
  .strict();

export const CreateKeySchema = z
  .object({
    tenantId: z.string().min(1).max(100),
    name: z.string().trim().min(1).max(200).default("default"),
    limits: KeyLimitsSchema.default({}),
  })
  .strict();
