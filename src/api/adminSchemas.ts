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

export const TenantSchema = z.object({ id: z.string(), name: z.string(), createdAt: z.number().int() });

/** Whether the tenant's feedback trains the global policy (docs/policy-isolation.md); every tenant starts untrusted. */
export const TenantTrustSchema = z.strictObject({ trusted: z.boolean() });

export const TenantListingSchema = TenantSchema.extend({ trusted: z.boolean() });

/** A key as listings show it: never the key itself or its hash. */
export const KeyListingSchema = z.object({
  id: z.string(),
  tenantId: z.string(),
  name: z.string(),
  prefix: z.string(),
  ratePerMinute: z.number().int(),
  tokensPerDay: z.number().int(),
  moneyPerDay: z.number(),
  defaultSolveTokens: z.number().int(),
  defaultSolveMoney: z.number(),
  createdAt: z.number().int(),
  revokedAt: z.number().int().nullable(),
});

export const CreatedKeySchema = KeyListingSchema.omit({ revokedAt: true }).extend({
  key: z.string().describe("the key itself, shown this once"),
});
