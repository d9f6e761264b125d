import { env, SELF } from "cloudflare:test";
import type { KeyLimits } from "../../src/auth/apiKey";
import { createKey, createTenant } from "../../src/auth/keyStore";

export interface TestKey {
  key: string;
  keyId: string;
  tenantId: string;
  /** Authorization and JSON content type. */
  headers: Record<string, string>;
}

/** A new tenant with one key in the test's D1 (generous limits unless given). */
export async function newTenantKey(limits: Partial<KeyLimits> = {}, tenantId?: string): Promise<TestKey> {
  const tenant = tenantId ?? (await createTenant(env.DB, "test tenant")).id;
  const made = await createKey(env.DB, tenant, "test", {
    ratePerMinute: 100_000,
    tokensPerDay: 1e9,
    moneyPerDay: 1e6,
    defaultSolveTokens: 1e8,
    defaultSolveMoney: 1e4,
    ...limits,
  });
  return {
    key: made.key,
    keyId: made.row.id,
    tenantId: tenant,
    headers: { authorization: `Bearer ${made.key}`, "content-type": "application/json" },
  };
}

let shared: Promise<TestKey> | undefined;

/** One generous key per test file. */
export function testKey(): Promise<TestKey> {
  shared ??= newTenantKey();
  return shared;
}

/** SELF.fetch with this file's key, unless the request names its own Authorization. */
export async function authedFetch(url: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (!headers.has("authorization")) headers.set("authorization", `Bearer ${(await testKey()).key}`);
  return SELF.fetch(url, { ...init, headers });
}
