/**
 * Escalation on workerd with real D1 and Durable Objects: with POLICY = "default-escalation" (a policy fitted
 * in dollars whose arms include the larger model), `auto` chooses within a cap in dollars and the token cap,
 * a large-model arm runs on the larger model (its calls priced at its card), D1 logs the cap in dollars for a
 * re-tune, and providers without a larger model are never sent to it.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import app from "../../functions/index";
import type { DryRunView, SolveView } from "../../src/api/schemas";
import { decideAuto, servablePolicy } from "../../src/policy/auto";
import { promptFeatures } from "../../src/policy/features";
import { Rng } from "../../src/engine/random";
import { configuredPolicy } from "../../src/policy/configured";
import { armTokens } from "../../src/policy/document";
import { testKey } from "./auth";
import { driveToEnd } from "./drive";

const POLICY = configuredPolicy({ POLICY: "default-escalation" });
const PROMPT =
  "Start with 4821. Multiply by 37. Subtract 9124. Divide by 4. Add 7733. Multiply by 12. Subtract 40321. What is the final number?";
const onLarge = (s: Record<string, unknown>) => s.strategy === "best-of-n" && s.model === "large";

/** A service whose providers have no larger model (its generator and verifier are never called here). */
const NO_LARGE = JSON.stringify({
  generator: {
    kind: "openai-completions",
    model: "small",
    parameters: 3e9,
    inputPricePerMillion: 0.1,
    outputPricePerMillion: 0.2,
    baseUrl: "http://127.0.0.1:9",
  },
  verifier: {
    kind: "vllm-prm",
    model: "prm",
    parameters: 7e9,
    inputPricePerMillion: 0.15,
    baseUrl: "http://127.0.0.1:9",
  },
});

async function post(body: unknown, over: Record<string, string> = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await app.fetch(
    new Request("https://ttc.test/v1/solves", {
      method: "POST",
      headers: { authorization: `Bearer ${(await testKey()).key}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    }),
    { ...env, POLICY: "default-escalation", AUTO_EXPLORATION: "0", ...over },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

async function dryRun(
  body: Record<string, unknown>,
  over: Record<string, string> = {},
): Promise<Extract<NonNullable<SolveView["policy"]>, { state: "decided" }>> {
  const res = await post({ prompt: PROMPT, dry_run: true, ...body }, over);
  expect(res.status, await res.clone().text()).toBe(200);
  const view = (await res.json()) as DryRunView;
  if (view.policy.state !== "decided") throw new Error("a policy in dollars decides at the edge");
  return view.policy;
}

describe("escalation to the larger model", () => {
  it("the shipped escalation policy is in dollars, chooses from the text, and has large-model arms only above small-model ones in each bin", () => {
    expect(POLICY.costUnit).toBe("money");
    expect(POLICY.probe).toBeNull();
    for (let bin = 1; bin <= 5; bin++) {
      const arms = POLICY.arms.filter((a) => a.bin === bin).sort((a, b) => a.budget - b.budget);
      // The data decides where the larger model wins; at the cheapest cap of every bin it is the small one.
      expect(onLarge(arms[0]!.spec as Record<string, unknown>)).toBe(false);
      for (const a of arms) expect(armTokens(a.evidence).high).toBeGreaterThan(0);
    }
    expect(POLICY.arms.some((a) => onLarge(a.spec as Record<string, unknown>))).toBe(true);
  });

  it("without a cap in dollars the choice is made at the policy's default; a dollar cap below the larger model's arms keeps the small model", async () => {
    const open = await dryRun({});
    expect(open).toMatchObject({
      costUnit: "money",
      capCost: POLICY.defaultBudget,
      capFrom: "policy default",
      exploration: false,
    });
    const expected = decideAuto(POLICY, PROMPT, POLICY.defaultBudget, undefined, undefined, undefined, open.capTokens);
    expect(open.config).toBe(expected.config);
    // The policy's arms were chosen under hard caps: the arm taken is one chosen for a cap within the budget.
    const chosenWithin = (d: { bin: number; config: string }, cap: number) =>
      POLICY.arms.some((a) => a.bin === d.bin && a.config === d.config && a.budget <= cap);
    expect(POLICY.armChoice).toBe("cap");
    expect(chosenWithin(open, POLICY.defaultBudget)).toBe(true);
    // The cheapest large-model arm of this prompt's bin, and a cap just below it: only small-model arms fit.
    const bin = open.bin;
    const cheapestLarge = Math.min(
      ...POLICY.arms.filter((a) => a.bin === bin && onLarge(a.spec as Record<string, unknown>)).map((a) => a.budget),
    );
    const tight = await dryRun({ budget: { money: cheapestLarge * 0.99 } });
    expect(tight).toMatchObject({ costUnit: "money", capFrom: "request", bin });
    expect(onLarge(tight.strategy)).toBe(false);
    expect(chosenWithin(tight, cheapestLarge * 0.99)).toBe(true);
    // At the cheapest large arm's cost the larger model is chosen: where it wins, it is the choice.
    const enough = await dryRun({ budget: { money: cheapestLarge } });
    expect(onLarge(enough.strategy)).toBe(true);
  });

  it("a token cap bounds a policy in dollars too: the arm's 90th-percentile tokens fit under it", async () => {
    const open = await dryRun({});
    const tokens = Math.floor(open.evidence.highTokens) - 1;
    const capped = await dryRun({ budget: { tokens } });
    expect(capped.capTokens).toBe(tokens);
    expect(capped.config).not.toBe(open.config);
    expect(capped.evidence.highTokens).toBeLessThanOrEqual(tokens);
  });

  it("runs a large-model arm on the larger model, priced at its card, and logs the cap in dollars for a re-tune", async () => {
    const cap = 0.01;
    const res = await post({ prompt: PROMPT, budget: { money: cap }, seed: 7 });
    expect(res.status, await res.clone().text()).toBe(202);
    const done = await driveToEnd(((await res.json()) as SolveView).id);
    const policy = done.policy;
    if (policy?.state !== "decided") throw new Error("not decided");
    expect(onLarge(policy.strategy)).toBe(true);
    expect(done.status).toBe("done");
    expect(done.spend.money).toBeLessThanOrEqual(cap);
    const calls = await env.DB.prepare(
      "SELECT provider, purpose, prompt_tokens, completion_tokens, cost FROM provider_calls WHERE solve_id = ? ORDER BY seq",
    )
      .bind(done.id)
      .all<{ provider: string; purpose: string; prompt_tokens: number; completion_tokens: number; cost: number }>();
    const generation = calls.results.filter((c) => c.purpose.startsWith("generate"));
    expect(generation.length).toBeGreaterThan(0);
    for (const c of generation) {
      expect(c.provider).toBe("sim-large");
      // Priced at the larger model's card ($0.9 / $1.8 per million tokens), not the base model's.
      expect(c.cost).toBeCloseTo((c.prompt_tokens * 0.9 + c.completion_tokens * 1.8) / 1e6, 12);
    }
    // The solve's FLOPs are the larger model's 2·P·D for its tokens plus the PRM's for the scoring.
    const genTokens = generation.reduce((t, c) => t + c.prompt_tokens + c.completion_tokens, 0);
    expect(done.spend.flops).toBeGreaterThanOrEqual(2 * 42e9 * genTokens);
    const row = await env.DB.prepare("SELECT cap_tokens, cap_cost, money FROM solves WHERE id = ?")
      .bind(done.id)
      .first<{ cap_tokens: number; cap_cost: number; money: number }>();
    expect(row?.cap_cost).toBeCloseTo(policy.capCost!, 12);
    expect(row?.cap_cost).toBeCloseTo(cap, 12);
    expect(row?.money).toBeCloseTo(done.spend.money, 12);
  });

  it("providers without a larger model never get a large-model arm from auto, and an explicit one is refused naming strategy.model", async () => {
    const auto = await dryRun({}, { PROVIDERS: NO_LARGE });
    expect(onLarge(auto.strategy)).toBe(false);
    const expected = decideAuto(
      servablePolicy(POLICY, false),
      PROMPT,
      POLICY.defaultBudget,
      undefined,
      undefined,
      undefined,
      auto.capTokens,
    );
    expect(auto.config).toBe(expected.config);
    const explicit = await post(
      { prompt: PROMPT, strategy: { strategy: "best-of-n", n: 2, model: "large" } },
      { PROVIDERS: NO_LARGE },
    );
    expect(explicit.status).toBe(400);
    expect(((await explicit.json()) as { error: { message: string } }).error.message).toMatch(
      /^strategy\.model: no larger model is configured/,
    );
  });

  it("a re-tune under it reads dollars and the dollar cap from D1, and keeps the unit", async () => {
    const { tenantId, keyId } = await testKey();
    const rng = new Rng(9);
    const cap = 0.0005;
    const now = Date.now();
    const statements: D1PreparedStatement[] = [];
    for (let i = 0; i < 240; i++) {
      const steps = 2 + Math.floor(rng.next() * 8);
      const prompt = `Start with ${Math.floor(rng.next() * 90)}.${" Multiply by 7. Add 123.".repeat(steps)} What is the final number?`;
      const d = decideAuto(POLICY, prompt, cap, undefined, undefined, undefined, 200_000);
      const hex = Array.from({ length: 32 }, () => Math.floor(rng.next() * 16).toString(16)).join("");
      const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
      statements.push(
        env.DB.prepare(
          `INSERT INTO solves (id, tenant_id, key_id, prompt_hash, status, strategy, spec, budget, seed, generations, samples, generator_tokens, verifier_tokens, flops, money, steps, created_at, finished_at, policy_version, predicted_bin, estimator, exploration, features, cap_tokens, cap_cost, propensity)
           VALUES (?, ?, ?, 'h', 'done', ?, ?, '{"money":0.0005}', 1, 1, 1, ?, 0, 0, ?, 1, ?, ?, ?, ?, 'free', 0, ?, 200000, ?, 1)`,
        ).bind(
          id,
          tenantId,
          keyId,
          d.config,
          JSON.stringify(d.strategy),
          Math.round(d.evidence.meanTokens),
          d.evidence.meanCost,
          now - 300 + i,
          now - 300 + i,
          POLICY.version,
          d.bin,
          JSON.stringify(promptFeatures(prompt)),
          cap,
        ),
        env.DB.prepare(
          "INSERT INTO solve_feedback (solve_id, tenant_id, correct, answer, created_at) VALUES (?, ?, ?, NULL, ?)",
        ).bind(id, tenantId, rng.next() < d.evidence.accuracy ? 1 : 0, now - 300 + i),
      );
    }
    await env.DB.batch(statements);
    const ctx = createExecutionContext();
    const res = await app.fetch(
      // The tenant's own re-tune (its outcomes are its own: it is not trusted to train the global policy).
      new Request(`https://ttc.test/v1/policy/retune?tenant=${tenantId}`, {
        method: "POST",
        headers: { authorization: "Bearer test-admin-secret" },
      }),
      { ...env, POLICY: "default-escalation" },
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(res.status, await res.clone().text()).toBe(201);
    const view = (await res.json()) as {
      version: string;
      parent: string;
      evaluation: { active: { replayed: number; meanCost: number; meanTokens: number } };
    };
    expect(view.parent).toBe(POLICY.version);
    // Replayed at the logged dollar cap, the active policy makes the logged choice on every row of its folds.
    expect(view.evaluation.active.replayed).toBe(240);
    expect(view.evaluation.active.meanCost).toBeLessThanOrEqual(cap);
    expect(view.evaluation.active.meanTokens).toBeGreaterThan(50);
    const stored = await env.DB.prepare("SELECT document FROM policy_versions WHERE version = ?")
      .bind(view.version)
      .first<{ document: string }>();
    expect((JSON.parse(stored!.document) as { costUnit: string }).costUnit).toBe("money");
  });
});
