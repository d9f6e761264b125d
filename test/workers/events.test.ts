import { env, runInDurableObject } from "cloudflare:test";
import { authedFetch } from "./auth";
import { describe, expect, it } from "vitest";
import type { SolveView } from "../../src/api/schemas";
import { StrategySpecSchema } from "../../src/engine/strategies";
import { recordSolve } from "../../src/db/recordSolve";
import { CallLog } from "../../src/durable/callLog";
import { SolveStorage } from "../../src/durable/storage";
import { driveToEnd } from "./drive";

const PROBLEM =
  "Start with 35. Multiply by 12. Subtract 99. Take the remainder when divided by 7. Add 680. What is the final number?";

async function start(body: unknown): Promise<SolveView> {
  const res = await authedFetch("https://ttc.test/v1/solves", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(202);
  return (await res.json()) as SolveView;
}

async function drive(id: string): Promise<void> {
  await driveToEnd(id);
}

function parseSse(text: string): { id: string; event: string; data: string }[] {
  return text
    .split("\n\n")
    .filter((block) => block.trim() !== "")
    .map((block) => {
      const field = (name: string) =>
        block
          .split("\n")
          .find((l) => l.startsWith(`${name}:`))
          ?.slice(name.length + 1)
          .trim() ?? "";
      return { id: field("id"), event: field("event"), data: field("data") };
    });
}

describe("events and records", () => {
  it("streams step events and a final done as server-sent events, and replays after Last-Event-ID", async () => {
    const solve = await start({ prompt: PROBLEM, strategy: { strategy: "beam-search", n: 4, width: 2 }, seed: 3 });
    await drive(solve.id);
    const res = await authedFetch(`https://ttc.test/v1/solves/${solve.id}/events`);
    expect(res.headers.get("content-type")).toMatch(/text\/event-stream/);
    const events = parseSse(await res.text());
    expect(events[0]?.event).toBe("started");
    expect(events.at(-1)?.event).toBe("done");
    expect(events.filter((e) => e.event === "step").length).toBeGreaterThan(1);
    const ids = events.map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    // Reconnect after the third event: only what came after it.
    const again = parseSse(
      await (
        await authedFetch(`https://ttc.test/v1/solves/${solve.id}/events`, {
          headers: { "last-event-id": String(ids[2]) },
        })
      ).text(),
    );
    expect(again.map((e) => e.id)).toEqual(events.slice(3).map((e) => e.id));
    const done = JSON.parse(events.at(-1)!.data) as { stopReason: string; steps: number };
    expect(done.stopReason).toBe("complete");
    // Reconnecting after the end: nothing more to send, and 204 tells EventSource to stop retrying.
    const after = await authedFetch(`https://ttc.test/v1/solves/${solve.id}/events`, {
      headers: { "last-event-id": events.at(-1)!.id },
    });
    expect(after.status).toBe(204);
  });

  it("writes every provider call to D1 in batches, adding up to the solve's spend", async () => {
    const solve = await start({ prompt: PROBLEM, strategy: { strategy: "beam-search", n: 8, width: 4 }, seed: 4 });
    await drive(solve.id);
    const view = (await (await authedFetch(`https://ttc.test/v1/solves/${solve.id}`)).json()) as SolveView;
    const calls = await env.DB.prepare(
      "SELECT purpose, prompt_tokens, completion_tokens, samples, status FROM provider_calls WHERE solve_id = ? ORDER BY step",
    )
      .bind(solve.id)
      .all<{ purpose: string; prompt_tokens: number; completion_tokens: number; samples: number; status: string }>();
    const rows = calls.results;
    // One call per provider per executor step.
    expect(rows.length).toBe(view.steps);
    expect(rows.every((r) => r.status === "ok")).toBe(true);
    expect(new Set(rows.map((r) => r.purpose))).toEqual(new Set(["generate:generator", "score:verifier"]));
    expect(rows.reduce((t, r) => t + r.prompt_tokens + r.completion_tokens, 0)).toBe(view.spend.tokens);
    expect(rows.reduce((t, r) => t + r.samples, 0)).toBe(view.spend.samples);
  });

  it("a D1 write retried after it succeeded adds no row twice", async () => {
    const solve = await start({ prompt: PROBLEM, strategy: { strategy: "best-of-n", n: 4 }, seed: 5 });
    const view = await driveToEnd(solve.id);
    const count = async () =>
      (await env.DB.prepare(
        "SELECT (SELECT COUNT(*) FROM provider_calls WHERE solve_id = ?1) + (SELECT COUNT(*) FROM solves WHERE id = ?1) AS n",
      )
        .bind(solve.id)
        .first<{ n: number }>())!.n;
    const before = await count();
    expect(before).toBe(view.steps + 1);
    const stub = env.SOLVE_SESSION.get(env.SOLVE_SESSION.idFromName(solve.id));
    await runInDurableObject(stub, async (_instance, state) => {
      const store = new SolveStorage(state.storage);
      const loaded = (await store.load())!;
      await recordSolve(env.DB, loaded.meta, loaded.exec, new CallLog(state.storage.sql).all(), Date.now());
    });
    expect(await count()).toBe(before);
    const money = await env.DB.prepare("SELECT SUM(cost) AS m FROM provider_calls WHERE solve_id = ?")
      .bind(solve.id)
      .first<{ m: number }>();
    expect(money!.m).toBeCloseTo(view.spend.money, 12);
  });

  it("a deadline already past stops before calling a provider", async () => {
    const id = crypto.randomUUID();
    const stub = env.SOLVE_SESSION.get(env.SOLVE_SESSION.idFromName(id));
    const started = await stub.start({
      id,
      prompt: PROBLEM,
      spec: StrategySpecSchema.parse({ strategy: "best-of-n", n: 8 }),
      budget: { deadline: Date.now() - 1 },
      seed: 1,
      tenantId: "ten_direct",
      keyId: "key_direct",
    });
    expect(started.ok).toBe(true);
    const view = await driveToEnd(id);
    expect(view.stopReason).toBe("deadline");
    expect(view.spend.samples).toBe(0);
    expect(view.answer).toBeNull();
  });

  it("events of an unknown solve are a 404", async () => {
    const res = await authedFetch("https://ttc.test/v1/solves/00000000-0000-4000-8000-000000000001/events");
    expect(res.status).toBe(404);
  });
});
