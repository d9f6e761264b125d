/**
 * Races: many concurrent solves against one key's daily cap never commit more than the cap, and concurrent
 * duplicates under one Idempotency-Key start exactly one solve with one reservation.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { SolveView } from "../../src/api/schemas";
import { newTenantKey } from "../workers/auth";
import { driveToEnd } from "../workers/drive";
import { api, expectErrorShape, postSolve } from "./support";

async function reservations(keyId: string): Promise<number> {
  return runInDurableObject(
    env.KEY_QUOTA.get(env.KEY_QUOTA.idFromName(keyId)),
    (_i, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM reservations").one().n,
  );
}

describe("races", () => {
  it("40 concurrent solves on a 25,000-token day: exactly five of 5,000 fit, the rest 429, spend within the cap", async () => {
    const k = await newTenantKey({ tokensPerDay: 25_000, defaultSolveTokens: 5_000, defaultSolveMoney: 1 });
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => postSolve(k, { budget: { tokens: 5_000 }, seed: i })),
    );
    const ok = answers.filter((r) => r.status === 202);
    expect(ok.length).toBe(5);
    for (const r of answers.filter((r) => r.status !== 202)) {
      expect(r.status).toBe(429);
      expectErrorShape(await r.text());
    }
    expect(await reservations(k.keyId)).toBe(5);
    const done = await Promise.all(ok.map(async (r) => driveToEnd(((await r.json()) as SolveView).id)));
    const usage = (await (await api(k, "/v1/usage")).json()) as { tokens: { spent: number; reserved: number } };
    expect(usage.tokens.spent).toBe(done.reduce((t, d) => t + d.spend.tokens, 0));
    expect(usage.tokens.spent).toBeLessThanOrEqual(25_000);
    expect(usage.tokens.reserved).toBe(0);
  });

  it("30 concurrent solves naming no budget on a small day: the clipped defaults never overrun it", async () => {
    const k = await newTenantKey({ tokensPerDay: 12_000, defaultSolveTokens: 5_000, defaultSolveMoney: 1 });
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => postSolve(k, { seed: i })));
    const views = await Promise.all(
      answers.filter((r) => r.status === 202).map(async (r) => (await r.json()) as SolveView),
    );
    expect(views.length).toBeGreaterThanOrEqual(2);
    expect(views.reduce((t, v) => t + (v.budget?.tokens ?? Infinity), 0)).toBeLessThanOrEqual(12_000);
    for (const r of answers.filter((r) => r.status !== 202)) expect(r.status).toBe(429);
    await Promise.all(views.map((v) => driveToEnd(v.id)));
  });

  it("25 concurrent duplicates under one Idempotency-Key start one solve and reserve once", async () => {
    const k = await newTenantKey({ tokensPerDay: 1_000_000, defaultSolveTokens: 5_000, defaultSolveMoney: 1 });
    const answers = await Promise.all(
      Array.from({ length: 25 }, () => postSolve(k, { seed: 7 }, { "idempotency-key": "race-1" })),
    );
    const ids = new Set<string>();
    for (const r of answers) {
      const text = await r.text();
      if (r.status === 202 || r.status === 200) ids.add((JSON.parse(text) as SolveView).id);
      else {
        // A duplicate that arrives while the first is being started may be told to retry: never a 5xx.
        expect([409, 429], text).toContain(r.status);
        expectErrorShape(text);
      }
    }
    expect(ids.size).toBe(1);
    expect(await reservations(k.keyId)).toBe(1);
    const solves = await env.DB.prepare("SELECT COUNT(*) AS n FROM idempotency_keys WHERE key = ?")
      .bind("race-1")
      .first<{ n: number }>();
    expect(solves!.n).toBe(1);
    await driveToEnd([...ids][0]!);
  });
});
