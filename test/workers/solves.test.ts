import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { authedFetch, newTenantKey } from "./auth";
import { describe, expect, it } from "vitest";
import type { SolveView } from "../../src/api/schemas";
import { driveToEnd } from "./drive";
import { SolveStorage } from "../../src/durable/storage";

const PROBLEM = "Start with 48. Add 17. Multiply by 6. Subtract 129. Divide by 3. What is the final number?";

async function post(
  path: string,
  body: unknown,
  headers: Record<string, string> = { "content-type": "application/json" },
): Promise<Response> {
  return authedFetch(`https://ttc.test${path}`, {
    method: "POST",
    headers,
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

const drive = driveToEnd;

type DecidedPolicy = Extract<NonNullable<SolveView["policy"]>, { state: "decided" }>;

/** An auto solve's decision (the text-only policy decides at the edge). */
function decided(view: SolveView): DecidedPolicy {
  if (view.policy?.state !== "decided")
    throw new Error(`solve ${view.id} has no decided policy: ${JSON.stringify(view.policy)}`);
  return view.policy;
}

describe("the solve API on workerd", () => {
  it("answers /healthz", async () => {
    const res = await authedFetch("https://ttc.test/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });

  it("starts an async beam search solve, runs it one step per alarm, and records it in D1", async () => {
    const res = await post("/v1/solves", {
      prompt: PROBLEM,
      strategy: { strategy: "beam-search", n: 8, width: 4 },
      budget: { generations: 8 },
      seed: 5,
    });
    expect(res.status).toBe(202);
    const started = (await res.json()) as SolveView;
    expect(started.status).toBe("running");
    const done = await drive(started.id);
    expect(done.status).toBe("done");
    expect(done.stopReason).toBe("complete");
    expect(done.answer).toMatch(/^-?\d+$/);
    expect(done.spend.generations).toBe(8);
    expect(done.steps).toBeGreaterThan(2);
    const row = await env.DB.prepare("SELECT status, stop_reason, answer, samples, steps FROM solves WHERE id = ?")
      .bind(started.id)
      .first<{ status: string; stop_reason: string; answer: string; samples: number; steps: number }>();
    expect(row).toMatchObject({
      status: "done",
      stop_reason: "complete",
      answer: done.answer,
      samples: done.spend.samples,
      steps: done.steps,
    });
  });

  it("auto (the default): the shipped policy chooses a strategy within the token cap, and the solve says which and why", async () => {
    const { servicePolicy } = await import("../../src/policy/shipped");
    const res = await post("/v1/solves", { prompt: PROBLEM, budget: { tokens: 20_000 }, mode: "sync", seed: 2 });
    expect(res.status).toBe(200);
    const view = (await res.json()) as SolveView;
    expect(view.status).toBe("done");
    expect(view.policy).toMatchObject({
      policyVersion: servicePolicy().version,
      estimator: "free",
      capTokens: 20_000,
      capFrom: "request",
    });
    expect(decided(view).bin).toBeGreaterThanOrEqual(1);
    expect(decided(view).evidence.highTokens).toBeLessThanOrEqual(20_000);
    expect(view.strategy).toBe(decided(view).config);
    expect(view.spend.tokens).toBeLessThanOrEqual(20_000);
    // GET shows the same decision.
    const again = (await (await authedFetch(`https://ttc.test/v1/solves/${view.id}`)).json()) as SolveView;
    expect(again.policy).toEqual(view.policy);
  });

  it("auto without a token budget chooses at the policy's default cap, not the key's per-solve ceiling", async () => {
    const { servicePolicy } = await import("../../src/policy/shipped");
    const res = await post("/v1/solves", { prompt: PROBLEM, dry_run: true });
    const { policy } = (await res.json()) as { policy: DecidedPolicy };
    expect(policy.capFrom).toBe("policy default");
    expect(policy.capTokens).toBe(servicePolicy().defaultBudget);
    expect(policy.evidence.highTokens).toBeLessThanOrEqual(servicePolicy().defaultBudget);
  });

  it("auto chooses within a money cap too (as tokens at the dearest price), and a dry run shows the policy's own choice", async () => {
    const res = await post("/v1/solves", { prompt: PROBLEM, budget: { money: 0.002 }, dry_run: true });
    expect(res.status).toBe(200);
    const { policy } = (await res.json()) as { policy: DecidedPolicy };
    // The dearest token among the service's models (generator, reviser, PRM) is an output token at $0.20 per million.
    expect(policy.capTokens).toBeCloseTo(0.002 / 0.2e-6, 3);
    expect(policy.capFrom).toBe("request");
    expect(policy.exploration).toBe(false);
    expect(policy.evidence.highTokens).toBeLessThanOrEqual(policy.capTokens);
    // A dry run is refused for what a real start would refuse.
    const tooBig = await post("/v1/solves", { prompt: PROBLEM, budget: { tokens: 1e12 }, dry_run: true });
    expect(tooBig.status).toBe(400);
  });

  it("auto respects a generation cap, and an explicit {strategy: auto} is the same as none", async () => {
    const res = await post("/v1/solves", {
      prompt: PROBLEM,
      strategy: { strategy: "auto" },
      budget: { generations: 2, tokens: 50_000 },
      mode: "sync",
      seed: 3,
    });
    expect(res.status).toBe(200);
    const view = (await res.json()) as SolveView;
    expect(view.spend.generations).toBeLessThanOrEqual(2);
  });

  it("dry_run returns the policy's decision and starts nothing; it is refused for a named strategy", async () => {
    // A started solve reserves its budget from the key's day at once: a dry run must reserve nothing.
    const usage = async (): Promise<{ tokens: { reserved: number; spent: number } }> =>
      (await (await authedFetch("https://ttc.test/v1/usage")).json()) as {
        tokens: { reserved: number; spent: number };
      };
    const before = await usage();
    const res = await post("/v1/solves", { prompt: PROBLEM, budget: { tokens: 30_000 }, dry_run: true });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { dryRun: boolean; policy: DecidedPolicy };
    expect(body.dryRun).toBe(true);
    expect(body.policy.capTokens).toBe(30_000);
    expect(body.policy.evidence.accuracy).toBeGreaterThanOrEqual(0);
    expect(body.policy.evidence.meanTokens).toBeGreaterThan(0);
    expect((await usage()).tokens).toEqual(before.tokens);
    expect(body).not.toHaveProperty("id");
    const refused = await post("/v1/solves", {
      prompt: PROBLEM,
      strategy: { strategy: "best-of-n", n: 4 },
      dry_run: true,
    });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/^dry_run: /);
  });

  it("logs an auto solve's decision in D1 (version, bin, estimator, features) for re-tuning", async () => {
    const view = (await (
      await post("/v1/solves", { prompt: PROBLEM, budget: { tokens: 20_000 }, mode: "sync", seed: 6 })
    ).json()) as SolveView;
    const row = await env.DB.prepare(
      "SELECT policy_version, predicted_bin, estimator, exploration, features FROM solves WHERE id = ?",
    )
      .bind(view.id)
      .first<{
        policy_version: string;
        predicted_bin: number;
        estimator: string;
        exploration: number;
        features: string;
      }>();
    expect(row).toMatchObject({
      policy_version: decided(view).policyVersion,
      predicted_bin: decided(view).bin,
      estimator: "free",
      exploration: 0,
    });
    expect((JSON.parse(row!.features) as number[]).length).toBeGreaterThan(10);
    // A named strategy logs no decision.
    const named = (await (
      await post("/v1/solves", { prompt: PROBLEM, strategy: { strategy: "best-of-n", n: 2 }, mode: "sync", seed: 6 })
    ).json()) as SolveView;
    const plain = await env.DB.prepare("SELECT policy_version FROM solves WHERE id = ?")
      .bind(named.id)
      .first<{ policy_version: string | null }>();
    expect(plain?.policy_version).toBeNull();
  });

  it("takes feedback for a finished solve: graded against a given answer, every report kept, the latest counting", async () => {
    const { latestFeedback } = await import("../../src/db/feedback");
    const view = (await (
      await post("/v1/solves", { prompt: PROBLEM, strategy: { strategy: "best-of-n", n: 2 }, mode: "sync", seed: 8 })
    ).json()) as SolveView;
    const fb = (body: unknown, id = view.id, headers?: Record<string, string>) =>
      post(`/v1/solves/${id}/feedback`, body, headers);
    const right = await fb({ answer: view.answer });
    expect(right.status).toBe(201);
    expect(await right.json()).toMatchObject({ solveId: view.id, correct: true, answer: view.answer });
    expect((await (await fb({ answer: "-123456789" })).json()) as { correct: boolean }).toMatchObject({
      correct: false,
    });
    const last = await fb({ correct: true });
    expect(last.status).toBe(201);
    const rows = await env.DB.prepare("SELECT COUNT(*) AS n FROM solve_feedback WHERE solve_id = ?")
      .bind(view.id)
      .first<{ n: number }>();
    expect(rows?.n).toBe(3);
    expect((await latestFeedback(env.DB, view.id))?.correct).toBe(true);
    // Bad input, an unknown solve, another tenant's solve, a running one.
    for (const [body, status, message] of [
      [{}, 400, /^body: give correct/],
      [{ correct: "yes" }, 400, /^correct: /],
      [{ answer: "" }, 400, /^answer: /],
      [{ correct: true, verdict: 1 }, 400, /verdict|Unrecognized/],
    ] as const) {
      const r = await fb(body);
      expect(r.status).toBe(status);
      expect(((await r.json()) as { error: { message: string } }).error.message).toMatch(message);
    }
    expect((await fb({ correct: true }, crypto.randomUUID())).status).toBe(404);
    const other = await newTenantKey();
    expect((await fb({ correct: true }, view.id, other.headers)).status).toBe(404);
    const running = (await (
      await post("/v1/solves", { prompt: PROBLEM, strategy: { strategy: "best-of-n", n: 2 } })
    ).json()) as SolveView;
    expect((await fb({ correct: true }, running.id)).status).toBe(409);
    expect(
      (
        await env.DB.prepare("SELECT COUNT(*) AS n FROM solve_feedback WHERE solve_id = ?")
          .bind(running.id)
          .first<{ n: number }>()
      )?.n,
    ).toBe(0);
  });

  it("answers a sync request with the finished solve", async () => {
    const res = await post("/v1/solves", {
      prompt: PROBLEM,
      strategy: { strategy: "best-of-n", n: 4 },
      mode: "sync",
      seed: 1,
    });
    expect(res.status).toBe(200);
    const view = (await res.json()) as SolveView;
    expect(view.status).toBe("done");
    expect(view.stopReason).toBe("complete");
    expect(view.answer).toMatch(/^-?\d+$/);
  });

  it("is deterministic for a seed and survives eviction mid-solve without paying twice", async () => {
    const body = { prompt: PROBLEM, strategy: { strategy: "best-of-n", n: 8 }, seed: 9 };
    const a = (await (await post("/v1/solves", body)).json()) as SolveView;
    const doneA = await drive(a.id);
    const b = (await (await post("/v1/solves", body)).json()) as SolveView;
    const stub = env.SOLVE_SESSION.get(env.SOLVE_SESSION.idFromName(b.id));
    await runDurableObjectAlarm(stub); // one step: the samples
    // Evict: in-memory state is gone; only storage survives.
    const { evictDurableObject } = await import("cloudflare:test");
    await evictDurableObject(stub);
    const doneB = await drive(b.id);
    expect(doneB.answer).toBe(doneA.answer);
    expect(doneB.spend).toEqual(doneA.spend);
  });

  it("cancels a running solve, keeping the best answer so far", async () => {
    // A long solve (256 sequential revisions), cancelled after its first attempt.
    const started = (await (
      await post("/v1/solves", {
        prompt: PROBLEM,
        strategy: { strategy: "revisions", sequential: 256, parallel: 1, selection: "majority" },
        seed: 2,
      })
    ).json()) as SolveView;
    const stub = env.SOLVE_SESSION.get(env.SOLVE_SESSION.idFromName(started.id));
    await runDurableObjectAlarm(stub);
    const res = await post(`/v1/solves/${started.id}/cancel`, {});
    expect(res.status).toBe(200);
    const view = (await res.json()) as SolveView;
    expect(view.status).toBe("done");
    expect(view.stopReason).toBe("cancelled");
    expect(view.steps).toBeLessThan(256);
    expect(view.spend.samples).toBe(view.steps);
    // The attempts written before the cancel still answer: the majority of what the chain wrote so far.
    expect(view.answer).toMatch(/^-?\d+$/);
    expect(await runDurableObjectAlarm(stub)).toBe(false);
  });

  it("a tight token or money cap bites: the solve spends something, stops on the budget and still answers", async () => {
    const strategies = [
      { strategy: "best-of-n", n: 16 },
      { strategy: "best-of-n", n: 16, selection: "majority" },
      { strategy: "beam-search", n: 16, width: 4 },
      { strategy: "dvts", n: 16, width: 4 },
      { strategy: "revisions", sequential: 4, parallel: 4 },
    ];
    for (const [i, strategy] of strategies.entries()) {
      // What the solve spends unconstrained, then a third of it as the cap.
      const free = await drive(
        ((await (await post("/v1/solves", { prompt: PROBLEM, strategy, seed: i })).json()) as SolveView).id,
      );
      for (const budget of [{ tokens: Math.floor(free.spend.tokens / 3) }, { money: free.spend.money / 3 }]) {
        const res = await post("/v1/solves", { prompt: PROBLEM, strategy, budget, seed: i });
        expect(res.status, JSON.stringify({ strategy, budget })).toBe(202);
        const done = await drive(((await res.json()) as SolveView).id);
        const label = JSON.stringify({ strategy, budget, done });
        expect(done.stopReason, label).toBe("budget");
        expect(done.spend.tokens, label).toBeGreaterThan(0);
        if (budget.tokens !== undefined) expect(done.spend.tokens, label).toBeLessThanOrEqual(budget.tokens);
        if (budget.money !== undefined) expect(done.spend.money, label).toBeLessThanOrEqual(budget.money);
        expect(done.spend.tokens, label).toBeLessThan(free.spend.tokens);
        expect(done.answer, label).not.toBeNull();
      }
    }
  });

  it("runs big solves through the API: beam search N = 256 with lookahead k = 3 (1,024 generations), and best-of-N 4,096 (state over 2 MB)", async () => {
    for (const strategy of [
      { strategy: "beam-search", n: 256, width: 16, lookahead: 3 },
      { strategy: "best-of-n", n: 4096 },
    ]) {
      const res = await post("/v1/solves", { prompt: PROBLEM, strategy, seed: 1 });
      expect(res.status).toBe(202);
      const id = ((await res.json()) as SolveView).id;
      const done = await drive(id, 60_000);
      expect(done.stopReason, JSON.stringify(done)).toBe("complete");
      expect(done.spend.generations).toBe(strategy.strategy === "best-of-n" ? 4096 : 1024);
      expect(done.answer).toMatch(/^-?\d+$/);
    }
    // Every stored part of the state stays far below the platform's 2 MB value limit.
    const id = (
      (await (
        await post("/v1/solves", { prompt: PROBLEM, strategy: { strategy: "best-of-n", n: 4096 }, seed: 2 })
      ).json()) as SolveView
    ).id;
    await drive(id, 60_000);
    const stub = env.SOLVE_SESSION.get(env.SOLVE_SESSION.idFromName(id));
    const parts = await runInDurableObject(stub, (_i, state) =>
      state.storage.sql
        .exec<{ n: number; longest: number; total: number }>(
          "SELECT COUNT(*) AS n, MAX(LENGTH(CAST(data AS BLOB))) AS longest, SUM(LENGTH(CAST(data AS BLOB))) AS total FROM state WHERE key = 'exec'",
        )
        .one(),
    );
    expect(parts.total).toBeGreaterThan(2 * 1024 * 1024);
    expect(parts.n).toBeGreaterThan(2);
    expect(parts.longest).toBeLessThan(1024 * 1024);
  });

  it("stores large state in parts without splitting a character: text with astral symbols reads back intact", async () => {
    const stub = env.SOLVE_SESSION.get(env.SOLVE_SESSION.idFromName(crypto.randomUUID()));
    const roundTrip = await runInDurableObject(stub, (_i, state) => {
      const store = new SolveStorage(state.storage);
      // 𝑥 is two UTF-16 units; after the JSON before it (58 characters), the first straddles the 300,000-character boundary of a part.
      const text = "a".repeat(299_941) + "𝑥".repeat(4) + "end";
      store.write("pending", {
        step: 0,
        work: { kind: "score", requests: [{ question: text, steps: [] }] },
        interruptions: 0,
        prior: [],
        received: [],
        discarded: [],
        providerMs: 0,
      });
      const back = store.read("pending");
      return back?.work.requests[0] && "question" in back.work.requests[0]
        ? back.work.requests[0].question === text
        : false;
    });
    expect(roundTrip).toBe(true);
  });

  it("a budget that cannot buy one sample is refused up front, naming the field and the minimum", async () => {
    const res = await post("/v1/solves", {
      prompt: PROBLEM,
      strategy: { strategy: "best-of-n", n: 4 },
      budget: { tokens: 10 },
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { type: string; message: string; code: string } };
    expect(body.error).toMatchObject({ type: "invalid_request_error", code: "invalid_request", param: null });
    expect(body.error.message).toMatch(
      /^budget\.tokens: is too small to buy one sample of this prompt: that needs at least \d+ tokens/,
    );
  });

  it("takes a FLOPs cap and keeps to it", async () => {
    const free = await drive(
      (
        (await (
          await post("/v1/solves", { prompt: PROBLEM, strategy: { strategy: "best-of-n", n: 8 }, seed: 4 })
        ).json()) as SolveView
      ).id,
    );
    const flops = free.spend.flops / 2;
    const done = await drive(
      (
        (await (
          await post("/v1/solves", {
            prompt: PROBLEM,
            strategy: { strategy: "best-of-n", n: 8 },
            budget: { flops },
            seed: 4,
          })
        ).json()) as SolveView
      ).id,
    );
    expect(done.stopReason).toBe("budget");
    expect(done.spend.flops).toBeGreaterThan(0);
    expect(done.spend.flops).toBeLessThanOrEqual(flops);
  });

  it("reads the JSON media type case-insensitively and with parameters", async () => {
    const res = await post(
      "/v1/solves",
      { prompt: PROBLEM, strategy: { strategy: "best-of-n", n: 2 } },
      { "content-type": "APPLICATION/JSON; charset=utf-8" },
    );
    expect(res.status).toBe(202);
  });

  describe("bad input is a 4xx naming the problem, never a 500", () => {
    const cases: [string, () => Promise<Response>, number, RegExp][] = [
      ["malformed JSON", () => post("/v1/solves", "{oops"), 400, /not valid JSON/],
      ["wrong content type", () => post("/v1/solves", "{}", { "content-type": "text/plain" }), 415, /Content-Type/],
      [
        "a content type that only mentions JSON in a parameter",
        () => post("/v1/solves", "{}", { "content-type": "text/plain; x=application/json" }),
        415,
        /Content-Type/,
      ],
      [
        "an oversized body, refused before it is parsed",
        () => post("/v1/solves", "x".repeat(300 * 1024)),
        413,
        /larger than/,
      ],
      ["missing prompt", () => post("/v1/solves", { strategy: { strategy: "best-of-n", n: 4 } }), 400, /^prompt: /],
      [
        "prompt of the wrong type",
        () => post("/v1/solves", { prompt: 42, strategy: { strategy: "best-of-n", n: 4 } }),
        400,
        /^prompt: /,
      ],
      [
        "oversized prompt",
        () => post("/v1/solves", { prompt: "x".repeat(20_001), strategy: { strategy: "best-of-n", n: 4 } }),
        400,
        /^prompt: .*20000/,
      ],
      [
        "unknown strategy",
        () => post("/v1/solves", { prompt: PROBLEM, strategy: { strategy: "telepathy" } }),
        400,
        /^strategy\.strategy: /,
      ],
      [
        "DVTS with N not divisible by M",
        () => post("/v1/solves", { prompt: PROBLEM, strategy: { strategy: "dvts", n: 10, width: 4 } }),
        400,
        /^strategy\.width: /,
      ],
      [
        "a strategy over the generation budget",
        () =>
          post("/v1/solves", {
            prompt: PROBLEM,
            strategy: { strategy: "best-of-n", n: 16 },
            budget: { generations: 8 },
          }),
        400,
        /^budget\.generations: strategy costs 16 generations/,
      ],
      [
        "an unknown field",
        () => post("/v1/solves", { prompt: PROBLEM, strategy: { strategy: "best-of-n", n: 4 }, colour: "blue" }),
        400,
        /colour|Unrecognized/,
      ],
      [
        "an unknown solve id",
        () => authedFetch("https://ttc.test/v1/solves/00000000-0000-4000-8000-000000000000"),
        404,
        /no such solve/,
      ],
      ["a malformed solve id", () => authedFetch("https://ttc.test/v1/solves/not-an-id"), 404, /no solve with id/],
      ["an unknown route", () => authedFetch("https://ttc.test/v2/whatever"), 404, /no route/],
      [
        "cancelling an unknown solve",
        () => post("/v1/solves/00000000-0000-4000-8000-000000000002/cancel", {}),
        404,
        /no such solve/,
      ],
      [
        "a budget field of the wrong type",
        () =>
          post("/v1/solves", {
            prompt: PROBLEM,
            strategy: { strategy: "best-of-n", n: 4 },
            budget: { tokens: "lots" },
          }),
        400,
        /^budget\.tokens: /,
      ],
      [
        "a strategy over the per-solve limit",
        () =>
          post("/v1/solves", {
            prompt: PROBLEM,
            strategy: { strategy: "beam-search", n: 2048, width: 4, lookahead: 3 },
          }),
        400,
        /^strategy: a solve may spend at most 4096 generations; this beam-search costs 8192 \(N·\(k\+1\)/,
      ],
      [
        "an unknown mode",
        () => post("/v1/solves", { prompt: PROBLEM, strategy: { strategy: "best-of-n", n: 4 }, mode: "eventually" }),
        400,
        /^mode: /,
      ],
    ];
    for (const [name, send, status, message] of cases) {
      it(name, async () => {
        const res = await send();
        expect(res.status).toBe(status);
        const body = (await res.json()) as { error: { type: string; message: string } };
        expect(body.error.message).toMatch(message);
      });
    }
  });
});
