/**
 * An auto solve that probes first survives eviction between the probe and the arm: the choice is durable
 * state, committed with the step that finished the probe. With eight provider requests per invocation the
 * probe (one sampling request, one scoring batch) fills the first alarm, so the arm starts in a later one.
 */
import { createExecutionContext, env, evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import app from "../../functions/index";
import type { SolveView } from "../../src/api/schemas";
import { testKey } from "../workers/auth";
import { driveToEnd } from "../workers/drive";

const PROMPT =
  "Start with 4821. Multiply by 37. Subtract 9518. Divide by 7. Add 12345. Multiply by 3. Subtract 2469. What is the final number?";

async function start(seed: number): Promise<SolveView> {
  const req = new Request("https://ttc.test/v1/solves", {
    method: "POST",
    headers: { authorization: `Bearer ${(await testKey()).key}`, "content-type": "application/json" },
    body: JSON.stringify({ prompt: PROMPT, budget: { tokens: 60_000 }, seed }),
  });
  const res = await app.fetch(req, { ...env, POLICY: "default" }, createExecutionContext());
  expect(res.status, await res.clone().text()).toBe(202);
  return (await res.json()) as SolveView;
}

describe("a probing auto solve over HTTP providers", () => {
  it("keeps its choice across eviction between the probe and the arm, and ends as an uninterrupted run does", async () => {
    const a = await driveToEnd((await start(21)).id);
    const b = await start(21);
    const stub = env.SOLVE_SESSION.get(env.SOLVE_SESSION.idFromName(b.id));
    expect(b.policy?.state).toBe("probing");
    await runDurableObjectAlarm(stub);
    const between = await stub.status();
    if (!between.ok) throw new Error(between.error);
    // The probe is done and the arm chosen, but the arm has not run yet.
    expect(between.value.status).toBe("running");
    expect(between.value.policy).toMatchObject({ state: "decided", estimator: "probe" });
    expect(between.value.spend.samples).toBe(8);
    await evictDurableObject(stub);
    const done = await driveToEnd(b.id);
    expect(done.policy).toEqual(between.value.policy);
    expect(done.policy).toEqual(a.policy);
    expect(done.answer).toBe(a.answer);
    expect(done.spend).toEqual(a.spend);
    const rows = await env.DB.prepare("SELECT purpose FROM provider_calls WHERE solve_id = ? ORDER BY seq")
      .bind(b.id)
      .all<{ purpose: string }>();
    expect(rows.results.filter((r) => r.purpose.startsWith("probe")).map((r) => r.purpose)).toEqual([
      "probe-generate:generator",
      "probe-score:verifier",
    ]);
  });
});
