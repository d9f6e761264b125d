/** API keys, tenants, admin routes, rate limits, daily spending caps and the default per-solve budget. */
import { env, runDurableObjectAlarm, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { SolveView } from "../../src/api/schemas";
import { newTenantKey, type TestKey } from "./auth";
import { driveToEnd } from "./drive";

const PROBLEM = "Start with 48. Add 17. Multiply by 6. Subtract 129. Divide by 3. What is the final number?";
const ADMIN = { authorization: `Bearer ${env.ADMIN_SECRET}`, "content-type": "application/json" };

type ErrorBody = { error: { type: string; message: string; code: string; param: string | null } };

function solve(k: TestKey, body: Record<string, unknown>): Promise<Response> {
  return SELF.fetch("https://ttc.test/v1/solves", {
    method: "POST",
    headers: k.headers,
    body: JSON.stringify({ prompt: PROBLEM, strategy: { strategy: "best-of-n", n: 4 }, ...body }),
  });
}

async function usage(
  k: TestKey,
): Promise<{ tokens: { spent: number; reserved: number; limit: number }; money: { spent: number } }> {
  return (await (await SELF.fetch("https://ttc.test/v1/usage", { headers: k.headers })).json()) as never;
}

describe("authentication", () => {
  const cases: [string, Record<string, string>, RegExp][] = [
    ["no Authorization header", {}, /missing API key/],
    ["a scheme other than Bearer", { authorization: "Basic dXNlcjpwYXNz" }, /must be 'Bearer <key>'/],
    [
      "an unknown key",
      { authorization: "Bearer ttc_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" },
      /unknown or revoked/,
    ],
    ["something that is not a key", { authorization: "Bearer hunter2" }, /unknown or revoked/],
  ];
  for (const [name, headers, message] of cases) {
    it(`refuses ${name} with 401 on every /v1 route`, async () => {
      for (const [method, path] of [
        ["POST", "/v1/solves"],
        ["GET", "/v1/solves/00000000-0000-4000-8000-000000000000"],
        ["GET", "/v1/usage"],
      ] as const) {
        const res = await SELF.fetch(`https://ttc.test${path}`, {
          method,
          headers: { ...headers, "content-type": "application/json" },
          ...(method === "POST" ? { body: "{}" } : {}),
        });
        expect(res.status, `${method} ${path}`).toBe(401);
        expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
        expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
        expect(((await res.json()) as ErrorBody).error.message).toMatch(message);
      }
    });
  }

  it("accepts the scheme in any case", async () => {
    const k = await newTenantKey();
    const res = await SELF.fetch("https://ttc.test/v1/usage", { headers: { authorization: `bearer ${k.key}` } });
    expect(res.status).toBe(200);
  });
});

describe("admin routes", () => {
  it("need the admin secret", async () => {
    for (const headers of [
      {} as Record<string, string>,
      { authorization: "Bearer wrong" },
      { authorization: `Bearer ${env.ADMIN_SECRET}x` },
    ]) {
      const res = await SELF.fetch("https://ttc.test/admin/keys", { headers });
      expect(res.status).toBe(401);
    }
  });

  it("create a tenant and a key that works, list keys without secrets, and revoke a key so it stops working", async () => {
    const tenant = (await (
      await SELF.fetch("https://ttc.test/admin/tenants", {
        method: "POST",
        headers: ADMIN,
        body: JSON.stringify({ name: "acme" }),
      })
    ).json()) as { id: string };
    const res = await SELF.fetch("https://ttc.test/admin/keys", {
      method: "POST",
      headers: ADMIN,
      body: JSON.stringify({ tenantId: tenant.id, name: "backend", limits: { ratePerMinute: 30 } }),
    });
    expect(res.status).toBe(201);
    const made = (await res.json()) as { key: string; id: string; ratePerMinute: number; hash?: string };
    expect(made.key).toMatch(/^ttc_[A-Za-z0-9_-]{43}$/);
    expect(made.ratePerMinute).toBe(30);
    expect(made.hash).toBeUndefined();
    const auth = { authorization: `Bearer ${made.key}` };
    expect((await SELF.fetch("https://ttc.test/v1/usage", { headers: auth })).status).toBe(200);
    // Stored hashed: the key itself is nowhere in D1.
    const row = await env.DB.prepare("SELECT * FROM api_keys WHERE id = ?")
      .bind(made.id)
      .first<Record<string, unknown>>();
    expect(JSON.stringify(row)).not.toContain(made.key.slice(4));
    const listed = (await (
      await SELF.fetch(`https://ttc.test/admin/keys?tenantId=${tenant.id}`, { headers: ADMIN })
    ).json()) as { data: Record<string, unknown>[] };
    expect(listed.data.map((k) => k.id)).toEqual([made.id]);
    expect(JSON.stringify(listed)).not.toContain(made.key);
    expect(listed.data[0]!.hash).toBeUndefined();
    expect(
      (await SELF.fetch(`https://ttc.test/admin/keys/${made.id}/revoke`, { method: "POST", headers: ADMIN })).status,
    ).toBe(200);
    const after = await SELF.fetch("https://ttc.test/v1/usage", { headers: auth });
    expect(after.status).toBe(401);
    expect(((await after.json()) as ErrorBody).error.message).toMatch(/revoked/);
    expect(
      (await SELF.fetch(`https://ttc.test/admin/keys/${made.id}/revoke`, { method: "POST", headers: ADMIN })).status,
    ).toBe(404);
  });

  it("refuse a key for an unknown tenant and bad limits, storing nothing", async () => {
    const before = (await env.DB.prepare("SELECT COUNT(*) AS n FROM api_keys").first<{ n: number }>())!.n;
    const unknown = await SELF.fetch("https://ttc.test/admin/keys", {
      method: "POST",
      headers: ADMIN,
      body: JSON.stringify({ tenantId: "ten_nope" }),
    });
    expect(unknown.status).toBe(404);
    const bad = await SELF.fetch("https://ttc.test/admin/keys", {
      method: "POST",
      headers: ADMIN,
      body: JSON.stringify({ tenantId: "ten_nope", limits: { ratePerMinute: -1 } }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as ErrorBody).error.message).toMatch(/^limits\.ratePerMinute: /);
    expect((await env.DB.prepare("SELECT COUNT(*) AS n FROM api_keys").first<{ n: number }>())!.n).toBe(before);
  });
});

describe("tenant isolation", () => {
  it("another tenant's solve answers 404 on every route; a second key of the same tenant sees it", async () => {
    const a = await newTenantKey();
    const b = await newTenantKey();
    const a2 = await newTenantKey({}, a.tenantId);
    const started = (await (await solve(a, {})).json()) as SolveView;
    for (const [method, path] of [
      ["GET", ""],
      ["GET", "/events"],
      ["POST", "/cancel"],
    ] as const) {
      const res = await SELF.fetch(`https://ttc.test/v1/solves/${started.id}${path}`, { method, headers: b.headers });
      expect(res.status, path).toBe(404);
      expect(((await res.json()) as ErrorBody).error.message).toBe("no such solve");
    }
    expect((await SELF.fetch(`https://ttc.test/v1/solves/${started.id}`, { headers: a2.headers })).status).toBe(200);
    const done = await driveToEnd(started.id);
    expect(done.status).toBe("done");
    const row = await env.DB.prepare("SELECT tenant_id, key_id FROM solves WHERE id = ?").bind(started.id).first();
    expect(row).toEqual({ tenant_id: a.tenantId, key_id: a.keyId });
  });
});

describe("limits", () => {
  it("rate limit: 429 with Retry-After naming the limit, per key", async () => {
    const k = await newTenantKey({ ratePerMinute: 3 });
    const other = await newTenantKey({ ratePerMinute: 3 }, k.tenantId);
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 4; i++) {
      last = await SELF.fetch("https://ttc.test/v1/usage", { headers: k.headers });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(Number(last!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(last!.headers.get("x-ratelimit-limit-requests")).toBe("3");
    expect(last!.headers.get("x-ratelimit-remaining-requests")).toBe("0");
    expect(last!.headers.get("x-ratelimit-reset-requests")).toMatch(/^\d+(\.\d+)?m?s$|^\d+m[\d.]+s$/);
    expect(((await last!.json()) as ErrorBody).error).toMatchObject({
      type: "rate_limit_error",
      code: "rate_limited",
      message: expect.stringMatching(/^rate limit: this key may make 3 requests per minute; retry after \d+ s$/),
    });
    expect((await SELF.fetch("https://ttc.test/v1/usage", { headers: other.headers })).status).toBe(200);
  });

  it("a request without a budget runs under the key's default per-solve budget", async () => {
    const free = await driveToEnd(
      (
        (await (
          await solve(await newTenantKey(), { strategy: { strategy: "best-of-n", n: 16 }, seed: 3 })
        ).json()) as SolveView
      ).id,
    );
    const cap = Math.floor(free.spend.tokens / 3);
    const k = await newTenantKey({ defaultSolveTokens: cap });
    const done = await driveToEnd(
      ((await (await solve(k, { strategy: { strategy: "best-of-n", n: 16 }, seed: 3 })).json()) as SolveView).id,
    );
    expect(done.stopReason).toBe("budget");
    expect(done.spend.tokens).toBeGreaterThan(0);
    expect(done.spend.tokens).toBeLessThanOrEqual(cap);
  });

  it("a budget over the key's daily cap is a 400 naming the field", async () => {
    const k = await newTenantKey({ tokensPerDay: 10_000 });
    const res = await solve(k, { budget: { tokens: 20_000 } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorBody).error.message).toBe(
      "budget.tokens: 20000 is more than this key may spend in a day (10000)",
    );
  });

  it("daily caps: concurrent solves cannot overrun them; spend is charged as it is incurred and the unspent rest released at the end", async () => {
    const k = await newTenantKey({ tokensPerDay: 35_000, moneyPerDay: 1000, defaultSolveMoney: 1 });
    // Seven solves at once, each reserving 10,000 tokens: exactly three fit.
    const responses = await Promise.all(
      Array.from({ length: 7 }, (_, i) =>
        solve(k, { strategy: { strategy: "beam-search", n: 8, width: 4 }, budget: { tokens: 10_000 }, seed: i }),
      ),
    );
    const accepted = responses.filter((r) => r.status === 202);
    const refused = responses.filter((r) => r.status === 429);
    expect(accepted.length).toBe(3);
    expect(refused.length).toBe(4);
    const refusal = refused[0]!;
    expect(Number(refusal.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(((await refusal.json()) as ErrorBody).error.message).toMatch(
      /^daily tokens cap: this solve's budget\.tokens \(10000\) is more than the 5000 left of this key's 35000 per day; running solves hold reservations/,
    );
    const ids = await Promise.all(accepted.map(async (r) => ((await r.json()) as SolveView).id));
    let u = await usage(k);
    expect(u.tokens.reserved).toBe(30_000);
    expect(u.tokens.spent).toBe(0);
    const done = await Promise.all(ids.map((id) => driveToEnd(id)));
    const spent = done.reduce((t, d) => t + d.spend.tokens, 0);
    u = await usage(k);
    expect(u.tokens.spent).toBe(spent);
    expect(u.tokens.reserved).toBe(0);
    expect(spent).toBeLessThanOrEqual(30_000);
    // What the finished solves did not spend is available again.
    const left = 35_000 - spent;
    expect((await solve(k, { budget: { tokens: left + 1 } })).status).toBe(429);
    const last = await solve(k, { budget: { tokens: left } });
    expect(last.status).toBe(202);
    await driveToEnd(((await last.json()) as SolveView).id);
  });

  it("a running solve's spend is charged after each step, inside its reservation", async () => {
    const k = await newTenantKey({ tokensPerDay: 10_000_000, defaultSolveMoney: 1, moneyPerDay: 100 });
    // 256 sequential revisions: more steps than one alarm invocation runs.
    const res = await solve(k, {
      strategy: { strategy: "revisions", sequential: 256, parallel: 1, selection: "majority" },
      budget: { tokens: 5_000_000 },
      seed: 2,
    });
    const id = ((await res.json()) as SolveView).id;
    const stub = env.SOLVE_SESSION.get(env.SOLVE_SESSION.idFromName(id));
    await runDurableObjectAlarm(stub);
    const u = await usage(k);
    const status = await stub.status();
    expect(status.ok && status.value.status).toBe("running");
    expect(u.tokens.spent).toBeGreaterThan(0);
    expect(u.tokens.spent).toBeLessThanOrEqual(status.ok ? status.value.spend.tokens : -1);
    expect(u.tokens.spent + u.tokens.reserved).toBe(5_000_000);
    await SELF.fetch(`https://ttc.test/v1/solves/${id}/cancel`, { method: "POST", headers: k.headers });
    const done = await driveToEnd(id);
    const settled = await usage(k);
    expect(settled.tokens).toMatchObject({ spent: done.spend.tokens, reserved: 0 });
  });

  it("a money cap refuses too, and a refused solve leaves nothing behind", async () => {
    const k = await newTenantKey({ moneyPerDay: 0.001, defaultSolveMoney: 0.0008 });
    expect((await solve(k, {})).status).toBe(202);
    const before = (await env.DB.prepare("SELECT COUNT(*) AS n FROM solves").first<{ n: number }>())!.n;
    // Named explicitly: a request naming no budget would get the default clipped to what is left.
    const res = await solve(k, { budget: { money: 0.0008 } });
    expect(res.status).toBe(429);
    expect(((await res.json()) as ErrorBody).error.message).toMatch(
      /^daily money cap: this solve's budget\.money \(\$0\.0008\) is more than the \$0\.0002 left/,
    );
    expect((await env.DB.prepare("SELECT COUNT(*) AS n FROM solves").first<{ n: number }>())!.n).toBe(before);
    expect((await usage(k)).money).toMatchObject({ spent: 0 });
  });
});
