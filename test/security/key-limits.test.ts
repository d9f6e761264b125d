/**
 * Key limits that work together: a request that names no budget gets the key's per-solve default clipped to
 * what the day's cap leaves (and the solve shows the budget it runs under); a key whose default is larger
 * than its cap is refused at creation, and one created with a small cap alone gets a default that fits.
 */
import { describe, expect, it } from "vitest";
import type { SolveView } from "../../src/api/schemas";
import { newTenantKey, type TestKey } from "../workers/auth";
import { driveToEnd } from "../workers/drive";
import { ADMIN, api, expectErrorShape, postSolve } from "./support";

async function adminKey(limits: Record<string, number>): Promise<Response> {
  const tenant = (await (
    await api(null, "/admin/tenants", { method: "POST", headers: ADMIN, body: JSON.stringify({ name: "small" }) })
  ).json()) as { id: string };
  return api(null, "/admin/keys", {
    method: "POST",
    headers: ADMIN,
    body: JSON.stringify({ tenantId: tenant.id, limits }),
  });
}

function asKey(made: { key: string; id: string; tenantId: string }): TestKey {
  return {
    key: made.key,
    keyId: made.id,
    tenantId: made.tenantId,
    headers: { authorization: `Bearer ${made.key}`, "content-type": "application/json" },
  };
}

describe("key limits", () => {
  it("a key made through /admin with tokensPerDay 20000 serves a solve that names no budget", async () => {
    const res = await adminKey({ tokensPerDay: 20_000 });
    expect(res.status).toBe(201);
    const made = (await res.json()) as { key: string; id: string; tenantId: string; defaultSolveTokens: number };
    expect(made.defaultSolveTokens).toBe(20_000);
    const solve = await postSolve(asKey(made), { strategy: { strategy: "best-of-n", n: 4 } });
    expect(solve.status, await solve.clone().text()).toBe(202);
    const view = (await solve.json()) as SolveView;
    expect(view.budget?.tokens).toBe(20_000);
    // When it has finished, an auto solve (the default strategy) gets what is left.
    await driveToEnd(view.id);
    const auto = await api(asKey(made), "/v1/solves", { method: "POST", body: JSON.stringify({ prompt: "2+2?" }) });
    expect(auto.status, await auto.clone().text()).toBeLessThan(300);
  });

  it("a default given larger than its daily cap is refused at creation, naming both", async () => {
    for (const [limits, field] of [
      [
        { tokensPerDay: 20_000, defaultSolveTokens: 30_000 },
        /limits\.defaultSolveTokens: 30000 is more than limits\.tokensPerDay \(20000\)/,
      ],
      [
        { moneyPerDay: 0.5, defaultSolveMoney: 2 },
        /limits\.defaultSolveMoney: \$2 is more than limits\.moneyPerDay \(\$0\.5\)/,
      ],
    ] as const) {
      const res = await adminKey(limits);
      const text = await res.text();
      expect(res.status, text).toBe(400);
      expect(expectErrorShape(text).message).toMatch(field);
    }
  });

  it("the default is clipped to what the day's cap leaves, shown in the solve's budget; nothing left is a 429", async () => {
    const k = await newTenantKey({
      tokensPerDay: 10_000,
      defaultSolveTokens: 8_000,
      defaultSolveMoney: 1,
      moneyPerDay: 100,
    });
    // 6,000 reserved by a solve that names its budget.
    const named = await postSolve(k, { budget: { tokens: 6_000 }, strategy: { strategy: "best-of-n", n: 4 } });
    expect(named.status).toBe(202);
    const first = (await named.json()) as SolveView;
    expect(first.budget?.tokens).toBe(6_000);
    // The next, naming none, gets the 4,000 left (its default is 8,000).
    const clipped = await postSolve(k, { strategy: { strategy: "best-of-n", n: 2 } });
    expect(clipped.status, await clipped.clone().text()).toBe(202);
    const second = (await clipped.json()) as SolveView;
    expect(second.budget?.tokens).toBe(4_000);
    // Nothing left while both run: a 429 that names the cap, with Retry-After.
    const none = await postSolve(k, {});
    const text = await none.text();
    expect(none.status, text).toBe(429);
    expect(Number(none.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(expectErrorShape(text).message).toMatch(/^daily tokens cap: nothing is left of this key's 10000 per day/);
    // When they finish, what they did not spend is available to the default again.
    const done = await Promise.all([driveToEnd(first.id), driveToEnd(second.id)]);
    const spent = done.reduce((t, d) => t + d.spend.tokens, 0);
    expect(spent).toBeLessThanOrEqual(10_000);
    const later = await postSolve(k, { strategy: { strategy: "best-of-n", n: 2 } });
    expect(later.status).toBe(202);
    expect(((await later.json()) as SolveView).budget?.tokens).toBe(Math.min(8_000, 10_000 - spent));
  });

  it("a dry run shows the decision within the clipped default", async () => {
    const k = await newTenantKey({
      tokensPerDay: 3_000,
      defaultSolveTokens: 100_000,
      defaultSolveMoney: 1,
      moneyPerDay: 100,
    });
    const res = await api(k, "/v1/solves", { method: "POST", body: JSON.stringify({ prompt: "2+2?", dry_run: true }) });
    const text = await res.text();
    expect(res.status, text).toBe(200);
    const view = JSON.parse(text) as { policy: { capTokens: number } };
    expect(view.policy.capTokens).toBeLessThanOrEqual(3_000);
  });
});
