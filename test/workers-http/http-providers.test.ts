/**
 * The Durable Object with real HTTP adapters (completions + vLLM pooling PRM) against the simulated world's
 * server: solves complete, faults end in a retry or a clean failure, and a step whose results were stored
 * before a crash is not paid for again.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { authedFetch } from "../workers/auth";
import { beforeEach, describe, expect, it } from "vitest";
import { planStep, type Execution } from "../../src/engine/executor";
import { callProviders, type StepResults } from "../../src/engine/executeStep";
import { assembleProviders } from "../../src/providers/index";
import { generatorAdapter, parseProvidersConfig, verifierAdapter } from "../../src/wiring/providers";
import type { SolveView } from "../../src/api/schemas";
import { StrategySpecSchema } from "../../src/engine/strategies";
import { driveToEnd } from "../workers/drive";
import { SolveStorage } from "../../src/durable/storage";

const SIM = "http://sim.test";
const PROBLEM = "Start with 23. Add 58. Multiply by 4. Subtract 17. What is the final number?";

async function stats(): Promise<{ served: number; replayed: number; billedTokens: number }> {
  return (await (await fetch(`${SIM}/_sim/stats`)).json()) as {
    served: number;
    replayed: number;
    billedTokens: number;
  };
}

async function served(): Promise<number> {
  return (await stats()).served;
}

async function fault(kind: string, count: number, path?: string): Promise<void> {
  await fetch(`${SIM}/_sim/faults`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ kind, count, path }),
  });
}

async function start(body: unknown): Promise<SolveView> {
  const res = await authedFetch("https://ttc.test/v1/solves", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(202);
  return (await res.json()) as SolveView;
}

function stubOf(id: string) {
  return env.SOLVE_SESSION.get(env.SOLVE_SESSION.idFromName(id));
}

const drive = driveToEnd;

beforeEach(async () => {
  await fetch(`${SIM}/_sim/faults`, { method: "DELETE" });
});

describe("SolveSession over HTTP providers", () => {
  it("completes a beam search with one HTTP request per provider per step", async () => {
    const solve = await start({ prompt: PROBLEM, strategy: { strategy: "beam-search", n: 8, width: 4 }, seed: 2 });
    const before = await served();
    const view = await drive(solve.id);
    expect(view.stopReason).toBe("complete");
    expect(view.answer).toMatch(/^-?\d+$/);
    expect((await served()) - before).toBe(view.steps);
  });

  it("keeps each invocation within its provider requests, running the rest in later invocations", async () => {
    const solve = await start({ prompt: PROBLEM, strategy: { strategy: "dvts", n: 8, width: 2 }, seed: 9 });
    const before = await served();
    const view = await drive(solve.id);
    expect(view.stopReason).toBe("complete");
    const events = (await (await authedFetch(`https://ttc.test/v1/solves/${solve.id}/events`)).text())
      .split("\n\n")
      .map((block) =>
        block
          .split("\n")
          .find((l) => l.startsWith("data:"))
          ?.slice(5),
      )
      .filter((d): d is string => d !== undefined && d.includes("invocation"))
      .map((d) => JSON.parse(d) as { invocation: number; subrequests: number });
    const perInvocation = new Map<number, number>();
    for (const e of events)
      perInvocation.set(e.invocation, Math.max(perInvocation.get(e.invocation) ?? 0, e.subrequests));
    expect([...perInvocation.values()].every((n) => n <= 8)).toBe(true);
    expect(perInvocation.size).toBeGreaterThan(1);
    // What the server served is within what the invocations counted (retries counted at their most).
    expect((await served()) - before).toBeLessThanOrEqual([...perInvocation.values()].reduce((a, b) => a + b, 0));
  });

  it("retries transient faults (429, 500, timeout, truncated, malformed) and completes", async () => {
    // Each call may fail three times (retries: 3): the generator meets three faults, the PRM two.
    for (const kind of ["429", "timeout", "truncated"]) await fault(kind, 1, "/v1/completions");
    for (const kind of ["500", "malformed"]) await fault(kind, 1, "/pooling");
    const before = await stats();
    const solve = await start({ prompt: PROBLEM, strategy: { strategy: "best-of-n", n: 4 }, seed: 3 });
    const view = await drive(solve.id);
    expect(view.stopReason).toBe("complete");
    expect(view.answer).not.toBeNull();
    const after = await stats();
    // Each call's attempts share an Idempotency-Key: after an attempt that was served (timed out, malformed),
    // the retry gets that answer again, not a new one.
    expect(after.served - before.served).toBe(2 + 2);
    expect(after.replayed - before.replayed).toBe(2);
    // The two attempts billed but unread are charged at their worst case (this provider is not configured as
    // replaying), so the solve's spend covers everything the provider billed.
    const rows = await env.DB.prepare(
      "SELECT purpose, status, prompt_tokens + completion_tokens AS tokens FROM provider_calls WHERE solve_id = ? ORDER BY id",
    )
      .bind(solve.id)
      .all<{ purpose: string; status: string; tokens: number }>();
    const discarded = rows.results.filter((r) => r.status === "discarded");
    expect(discarded.map((r) => r.purpose).sort()).toEqual(["generate:generator", "score:verifier"]);
    expect(rows.results.reduce((t, r) => t + r.tokens, 0)).toBe(view.spend.tokens);
    expect(view.spend.tokens).toBeGreaterThanOrEqual(after.billedTokens - before.billedTokens);
  });

  it("a provider that keeps failing ends the solve failed, with the reason and the best answer so far", async () => {
    await fault("500", 50, "/pooling");
    const solve = await start({ prompt: PROBLEM, strategy: { strategy: "best-of-n", n: 4 }, seed: 4 });
    const view = await drive(solve.id);
    expect(view.status).toBe("done");
    expect(view.stopReason).toBe("failed");
    expect(view.detail).toMatch(/provider verifier \(vllm-prm, model sim-prm\): HTTP 500/);
    // The provider's own answer is logged, not shown.
    expect(view.detail).not.toMatch(/simulated/);
    const res = await authedFetch(`https://ttc.test/v1/solves/${solve.id}`);
    expect(await res.text()).not.toMatch(/simulated/);
    expect(view.answer).not.toBeNull(); // majority over the samples already paid for
  });

  it("a cancel that lands while a step is with the providers aborts the call in flight, charges it, and stops", async () => {
    // The generator stalls on its first attempt: a window with the step in flight.
    await fault("timeout", 1, "/v1/completions");
    const solve = await start({ prompt: PROBLEM, strategy: { strategy: "best-of-n", n: 4 }, seed: 8 });
    await new Promise((r) => setTimeout(r, 150));
    const began = Date.now();
    const res = await authedFetch(`https://ttc.test/v1/solves/${solve.id}/cancel`, { method: "POST" });
    expect(res.status).toBe(200);
    const view = (await res.json()) as SolveView;
    // Promptly: the stalled attempt (1.5 s) is aborted, not waited for.
    expect(Date.now() - began).toBeLessThan(1000);
    expect(view.status).toBe("done");
    expect(view.stopReason).toBe("cancelled");
    expect(view.detail).toMatch(/aborted/);
    // D1 has the record once the object has written it (just after the solve's state says done).
    const record = () =>
      env.DB.prepare("SELECT samples, stop_reason FROM solves WHERE id = ?")
        .bind(solve.id)
        .first<{ samples: number; stop_reason: string }>();
    let row = await record();
    for (let i = 0; i < 40 && !row; i++) {
      await new Promise((r) => setTimeout(r, 50));
      row = await record();
    }
    expect(row).toEqual({ samples: 0, stop_reason: "cancelled" });
    // The aborted attempt may have been billed: charged at its worst case, in the ledger and in D1.
    const calls = await env.DB.prepare(
      "SELECT status, estimated, prompt_tokens + completion_tokens AS tokens FROM provider_calls WHERE solve_id = ? ORDER BY seq",
    )
      .bind(solve.id)
      .all<{ status: string; estimated: number; tokens: number }>();
    expect(calls.results.map((c) => [c.status, c.estimated])).toContainEqual(["discarded", 1]);
    expect(view.spend.tokens).toBeGreaterThan(0);
    expect(calls.results.reduce((t, c) => t + c.tokens, 0)).toBe(view.spend.tokens);
  });

  it("a wrong number of choices is a provider error, not a crash", async () => {
    await fault("wrong-count", 1, "/v1/completions");
    const solve = await start({ prompt: PROBLEM, strategy: { strategy: "best-of-n", n: 4 }, seed: 5 });
    const view = await drive(solve.id);
    expect(view.stopReason).toBe("failed");
    expect(view.detail).toMatch(/expected 4 choices/);
  });

  it("never pays twice: results stored before a crash are reused by the retried step", async () => {
    const id = crypto.randomUUID();
    const stub = stubOf(id);
    // Inside the object (its input gate keeps alarms out): start, hold the alarm, and do the first half of
    // a step as an alarm that died after storing its provider results but before absorbing them.
    await runInDurableObject(stub, async (instance, state) => {
      const started = await instance.start({
        id,
        prompt: PROBLEM,
        spec: StrategySpecSchema.parse({ strategy: "best-of-n", n: 4 }),
        budget: {},
        seed: 6,
        tenantId: "ten_direct",
        keyId: "key_direct",
      });
      if (!started.ok) throw new Error(started.error);
      await state.storage.deleteAlarm();
      const exec = new SolveStorage(state.storage).read("exec") as Execution;
      const config = parseProvidersConfig(env.PROVIDERS);
      if (!config.ok || config.config === "sim") throw new Error("expected HTTP providers");
      const { providers, costs } = assembleProviders({
        generator: generatorAdapter("generator", config.config.generator),
        verifier: verifierAdapter("verifier", config.config.verifier),
      });
      const plan = planStep(exec, costs, Date.now());
      if (plan.kind !== "call") throw new Error("expected a call");
      const results = await callProviders(plan.work, providers);
      const pending: StepResults = {
        step: exec.steps,
        work: plan.work,
        results,
        received: results.responses,
        providerMs: 0,
        interruptions: 0,
        prior: [],
        discarded: [],
      };
      await new SolveStorage(state.storage).keep(pending);
    });
    const before = await served();
    // The retried step absorbs the stored results without calling the generator again.
    await runInDurableObject(stub, (_instance, state) => state.storage.setAlarm(Date.now()));
    const view = await drive(id);
    expect(view.stopReason).toBe("complete");
    expect(view.spend.samples).toBe(4);
    // Only the scoring step went to a provider: the generation was paid for once.
    expect((await served()) - before).toBe(1);
  });
});
