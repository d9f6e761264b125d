/** Idempotency-Key on POST /v1/solves: same key and body → the same solve; another body → 409. */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { SolveView } from "../../src/api/schemas";
import { newTenantKey, type TestKey } from "./auth";
import { driveToEnd } from "./drive";

const PROBLEM = "Start with 48. Add 17. Multiply by 6. Subtract 129. Divide by 3. What is the final number?";

function post(k: TestKey, key: string, body: unknown): Promise<Response> {
  return SELF.fetch("https://ttc.test/v1/solves", {
    method: "POST",
    headers: { ...k.headers, "idempotency-key": key },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

async function rows(table: string, where: string, ...binds: string[]): Promise<number> {
  return (await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`)
    .bind(...binds)
    .first<{ n: number }>())!.n;
}

describe("Idempotency-Key", () => {
  it("the same key and body return the same solve, in any key order and after it finished; one solve is recorded and reserved", async () => {
    const k = await newTenantKey({ tokensPerDay: 100_000, defaultSolveTokens: 40_000, defaultSolveMoney: 1 });
    const body = { prompt: PROBLEM, strategy: { strategy: "best-of-n", n: 4 }, seed: 1 };
    const a = await post(k, "order-1", body);
    expect(a.status).toBe(202);
    const first = (await a.json()) as SolveView;
    const b = (await (
      await post(
        k,
        "order-1",
        `{"seed":1,"strategy":{"n":4,"strategy":"best-of-n"},"prompt":${JSON.stringify(PROBLEM)}}`,
      )
    ).json()) as SolveView;
    expect(b.id).toBe(first.id);
    const done = await driveToEnd(first.id);
    const again = (await (await post(k, "order-1", body)).json()) as SolveView;
    expect(again).toMatchObject({ id: first.id, status: "done", answer: done.answer });
    expect(await rows("solves", "id = ?", first.id)).toBe(1);
    const usage = (await (await SELF.fetch("https://ttc.test/v1/usage", { headers: k.headers })).json()) as {
      tokens: { spent: number; reserved: number };
    };
    expect(usage.tokens).toEqual({ spent: done.spend.tokens, reserved: 0, limit: 100_000 });
  });

  it("the same key with a different body is a 409 naming the key, and changes nothing", async () => {
    const k = await newTenantKey();
    const first = (await (
      await post(k, "k-409", { prompt: PROBLEM, strategy: { strategy: "best-of-n", n: 4 } })
    ).json()) as SolveView;
    const res = await post(k, "k-409", { prompt: PROBLEM, strategy: { strategy: "best-of-n", n: 8 } });
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe(
      `Idempotency-Key "k-409" was already used with a different request body (solve ${first.id})`,
    );
    expect(await rows("idempotency_keys", "tenant_id = ?", k.tenantId)).toBe(1);
  });

  it("racing duplicates start one solve", async () => {
    const k = await newTenantKey();
    const body = { prompt: PROBLEM, strategy: { strategy: "best-of-n", n: 4 } };
    const views = await Promise.all(
      Array.from({ length: 6 }, () =>
        post(k, "race", body).then(async (r) => ({ status: r.status, view: (await r.json()) as SolveView })),
      ),
    );
    expect(views.map((v) => v.status)).toEqual(Array(6).fill(202));
    expect(new Set(views.map((v) => v.view.id)).size).toBe(1);
  });

  it("keys are per tenant: another tenant's identical request starts its own solve", async () => {
    const body = { prompt: PROBLEM, strategy: { strategy: "best-of-n", n: 2 } };
    const a = (await (await post(await newTenantKey(), "shared", body)).json()) as SolveView;
    const b = (await (await post(await newTenantKey(), "shared", body)).json()) as SolveView;
    expect(a.id).not.toBe(b.id);
  });

  it("a refused first request leaves no key behind, so a corrected retry with the same key works", async () => {
    const k = await newTenantKey({ tokensPerDay: 10_000, defaultSolveTokens: 5_000, defaultSolveMoney: 1 });
    const over = await post(k, "retry-me", {
      prompt: PROBLEM,
      strategy: { strategy: "best-of-n", n: 4 },
      budget: { tokens: 20_000 },
    });
    expect(over.status).toBe(400);
    const bad = await post(k, "retry-me", { prompt: PROBLEM, strategy: { strategy: "telepathy" } });
    expect(bad.status).toBe(400);
    expect(await rows("idempotency_keys", "tenant_id = ?", k.tenantId)).toBe(0);
    const ok = await post(k, "retry-me", { prompt: PROBLEM, strategy: { strategy: "best-of-n", n: 4 } });
    expect(ok.status).toBe(202);
  });

  it("a key that is not 1 to 255 visible ASCII characters is a 400", async () => {
    const k = await newTenantKey();
    for (const key of ["x".repeat(256), "has space", ""]) {
      const res = await post(k, key, { prompt: PROBLEM, strategy: { strategy: "best-of-n", n: 2 } });
      expect(res.status, key).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/^Idempotency-Key must be/);
    }
  });
});
