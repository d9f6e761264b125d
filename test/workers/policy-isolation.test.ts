/**
 * Learning isolation (docs/policy-isolation.md), on workerd with real D1 and Durable Objects: one tenant's
 * feedback re-tunes only its own policy; the global policy learns only from trusted tenants, each capped to a
 * share of the fit.
 */
import { createExecutionContext, createScheduledController, env, SELF, waitOnExecutionContext } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import worker from "../../functions/index";
import type { SolveView } from "../../src/api/schemas";
import { answersEquivalent } from "../../src/engine/answers";
import { Rng } from "../../src/engine/random";
import { chooseArmFor } from "../../src/policy/choose";
import { promptFeatures } from "../../src/policy/features";
import { servicePolicy } from "../../src/policy/shipped";
import { generateProblems } from "../../src/sim/problems";
import { parseWorld } from "../../src/sim/world";
import defaultWorld from "../../worlds/default.json";

const BASE = "https://ttc.test";
const ADMIN = { authorization: "Bearer test-admin-secret", "content-type": "application/json" };

function problems(count: number, seed: number): { problem: string; answer: string }[] {
  const w = parseWorld(defaultWorld);
  if (!w.ok) throw new Error(w.error);
  return generateProblems(w.world, seed, count).map((r) => ({ problem: r.problem, answer: r.answer }));
}

interface Tenant {
  tenantId: string;
  headers: Record<string, string>;
}

/** A tenant and a key, through the admin routes as an operator makes them. */
async function newTenant(name: string): Promise<Tenant> {
  const t = await SELF.fetch(`${BASE}/admin/tenants`, {
    method: "POST",
    headers: ADMIN,
    body: JSON.stringify({ name }),
  });
  const { id } = (await t.json()) as { id: string };
  const k = await SELF.fetch(`${BASE}/admin/keys`, {
    method: "POST",
    headers: ADMIN,
    body: JSON.stringify({
      tenantId: id,
      limits: { ratePerMinute: 100_000, tokensPerDay: 1e9, moneyPerDay: 1e6, defaultSolveTokens: 1e6 },
    }),
  });
  const { key } = (await k.json()) as { key: string };
  return { tenantId: id, headers: { authorization: `Bearer ${key}`, "content-type": "application/json" } };
}

async function trust(tenantId: string, trusted: boolean): Promise<Response> {
  return SELF.fetch(`${BASE}/admin/tenants/${tenantId}/trust`, {
    method: "POST",
    headers: ADMIN,
    body: JSON.stringify({ trusted }),
  });
}

/** The scheduled handler, as the cron trigger runs it (with `vars` over the Worker's own). */
async function cron(vars: Record<string, string> = {}): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(
    createScheduledController({ scheduledTime: Date.now(), cron: "17 * * * *" }),
    { ...env, ...vars } as Env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
}

async function solve(t: Tenant, body: Record<string, unknown>): Promise<SolveView & { dryRun?: boolean }> {
  const res = await SELF.fetch(`${BASE}/v1/solves`, { method: "POST", headers: t.headers, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  return (await res.json()) as SolveView;
}

/** `f` over `items`, eight at a time (the solves wait on Durable Objects and D1 more than they compute). */
async function inBatches<T, R>(items: readonly T[], f: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += 8)
    out.push(...(await Promise.all(items.slice(i, i + 8).map((x, j) => f(x, i + j)))));
  return out;
}

/** B's choices: auto dry runs over a set of prompts and budgets, as "version config" per cell. */
async function choices(t: Tenant): Promise<string[]> {
  const cells = problems(8, 501).flatMap(({ problem }) => [1000, 4000, 20_000].map((tokens) => ({ problem, tokens })));
  return inBatches(cells, async ({ problem, tokens }) => {
    const view = await solve(t, { prompt: problem, budget: { tokens }, dry_run: true });
    const p = view.policy as { policyVersion: string; config: string };
    return `${p.policyVersion} ${p.config}`;
  });
}

/** B's accuracy: 30 auto sync solves at 4,000 tokens with fixed seeds, graded against the gold answers. */
async function accuracy(t: Tenant): Promise<number> {
  const right = await inBatches(problems(30, 777), async ({ problem, answer }, i) => {
    const view = await solve(t, { prompt: problem, budget: { tokens: 4000 }, mode: "sync", seed: 1000 + i });
    return view.answer !== null && answersEquivalent(view.answer, answer);
  });
  return right.filter(Boolean).length;
}

/**
 * Labelled auto solves written to D1 as the service logs them (for the global-fit tests, where hundreds of
 * outcomes are needed): real simulated prompts' features, the shipped policy's arm at a 20,000-token cap or, for
 * half of them, the bin's cheapest arm, and an outcome that favours the cheapest arm (right 92% of the time,
 * the others 70%): a re-tune that reads them moves to the cheaper arms.
 */
async function logOutcomes(t: Tenant, count: number, seed: number): Promise<void> {
  const policy = servicePolicy();
  const rng = new Rng(seed);
  const now = Date.now();
  const statements: D1PreparedStatement[] = [];
  problems(count, seed).forEach(({ problem }, i) => {
    const features = promptFeatures(problem);
    const chosen = chooseArmFor(policy, features, 20_000, 0);
    const cheapest = policy.arms
      .filter((a) => a.bin === chosen.bin)
      .sort((a, b) => a.evidence.meanCost - b.evidence.meanCost)[0]!;
    const explore = rng.next() < 0.5;
    const arm = explore ? cheapest : chosen.arm;
    const propensity = cheapest === chosen.arm ? 1 : 0.5;
    const hex = Array.from({ length: 32 }, () => Math.floor(rng.next() * 16).toString(16)).join("");
    const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
    const correct = rng.next() < (arm === cheapest ? 0.92 : 0.7) ? 1 : 0;
    statements.push(
      env.DB.prepare(
        `INSERT INTO solves (id, tenant_id, key_id, prompt_hash, status, strategy, spec, budget, seed, generations, samples, generator_tokens, verifier_tokens, flops, money, steps, created_at, finished_at, policy_version, predicted_bin, estimator, exploration, features, cap_tokens, propensity)
         VALUES (?, ?, 'k', 'h', 'done', ?, ?, '{"tokens":20000}', 1, ?, 1, ?, 0, 0, 0, 1, ?, ?, ?, ?, 'free', ?, ?, 20000, ?)`,
      ).bind(
        id,
        t.tenantId,
        arm.config,
        JSON.stringify(arm.spec),
        arm.evidence.meanGenerations,
        Math.round(arm.evidence.meanCost),
        now - count + i,
        now - count + i,
        policy.version,
        chosen.bin,
        explore ? 1 : 0,
        JSON.stringify(features),
        propensity,
      ),
      env.DB.prepare(
        "INSERT INTO solve_feedback (solve_id, tenant_id, correct, answer, created_at) VALUES (?, ?, ?, NULL, ?)",
      ).bind(id, t.tenantId, correct, now - count + i),
    );
  });
  for (let i = 0; i < statements.length; i += 200) await env.DB.batch(statements.slice(i, i + 200));
}

async function globalPolicy(): Promise<string> {
  return ((await (await SELF.fetch(`${BASE}/v1/policy`, { headers: ADMIN })).json()) as { version: string }).version;
}

interface Listed {
  active: string;
  data: { version: string; decision: string; reason: string; outcomes: number }[];
}

async function versionsOf(query = ""): Promise<Listed> {
  return (await (await SELF.fetch(`${BASE}/v1/policy/versions${query}`, { headers: ADMIN })).json()) as Listed;
}

describe("learning isolation on workerd", () => {
  beforeEach(async () => {
    await env.DB.batch(
      ["policy_active", "policy_tenant_active", "policy_events", "policy_versions", "solve_feedback", "solves"].map(
        (t) => env.DB.prepare(`DELETE FROM ${t}`),
      ),
    );
  });

  it("poisoning: tenant A's adversarial feedback on 40 solves, then the cron; tenant B's choices and accuracy are unchanged", async () => {
    const a = await newTenant("A");
    const b = await newTenant("B");
    const choicesBefore = await choices(b);
    const accuracyBefore = await accuracy(b);
    const choicesA = await choices(a);

    // A runs 40 auto solves — 30 at a small cap (the bins' cheap arms), 10 at 4,000 tokens — and reports them
    // falsely: every cheap solve "right", every 4,000-token solve inverted (right as wrong, wrong as right).
    const posted = await inBatches(problems(40, 333), async ({ problem, answer }, i) => {
      const cheap = i < 30;
      const view = await solve(a, { prompt: problem, budget: { tokens: cheap ? 200 : 4000 }, mode: "sync", seed: i });
      const right = view.answer !== null && answersEquivalent(view.answer, answer);
      const res = await SELF.fetch(`${BASE}/v1/solves/${view.id}/feedback`, {
        method: "POST",
        headers: a.headers,
        body: JSON.stringify({ correct: cheap ? true : !right }),
      });
      return res.status;
    });
    expect(posted).toEqual(Array(40).fill(201));
    // Thresholds lowered to the 40 outcomes A posted, so that a re-tune does run on them.
    const low = { RETUNE_MIN_OUTCOMES: "40", RETUNE_MIN_NEW_OUTCOMES: "40", TENANT_RETUNE_MIN_OUTCOMES: "40" };
    await cron(low);
    const afterFirst = await choices(b);
    const changedFirst = afterFirst.filter((c, i) => c !== choicesBefore[i]).length;
    const decided = async () =>
      (
        await env.DB.prepare("SELECT decision FROM policy_versions ORDER BY created_at").all<{ decision: string }>()
      ).results
        .map((r) => r.decision)
        .join(",");
    const firstDecisions = await decided();

    // A stronger attack, so that a poisoned re-tune is promoted: 500 more labelled outcomes from A claiming the
    // bins' cheapest arms are right 92% of the time and the policy's own 70% (in this world they are the less
    // accurate ones), logged as the service logs feedback.
    await logOutcomes(a, 500, 41);
    await cron(low);
    const choicesAfter = await choices(b);
    const accuracyAfter = await accuracy(b);
    const changed = choicesAfter.filter((c, i) => c !== choicesBefore[i]).length;
    // A's own choices, configuration only (its version changes with any promotion), against before A's reports.
    const configOf = (c: string | undefined) => c?.split(" ").slice(1).join(" ");
    const changedA = (await choices(a)).filter((c, i) => configOf(c) !== configOf(choicesA[i])).length;
    const policyOf = async (t: Tenant) =>
      (await (await SELF.fetch(`${BASE}/v1/policy`, { headers: t.headers })).json()) as {
        version: string;
        source?: string;
      };
    const [ofA, ofB] = [await policyOf(a), await policyOf(b)];
    console.log(
      `poisoning: after A's 40 adversarial reports and the cron, B's choices changed in ${changedFirst} of ${choicesBefore.length} (prompt, budget) cells (re-tunes: ${firstDecisions}); after 500 more and the cron, in ${changed} of ${choicesBefore.length}, A's own in ${changedA}; B accuracy ${accuracyBefore}/30 before, ${accuracyAfter}/30 after (re-tunes: ${await decided()}); B's policy ${ofB.version} (${ofB.source ?? "global"}); A's policy ${ofA.version} (${ofA.source ?? "global"})`,
    );
    expect(changedFirst).toBe(0);
    expect(changed).toBe(0);
    // A's own policy did learn from A: the isolation is not that nothing was learnt.
    expect(ofA.source).toBe("tenant");
    expect(changedA).toBeGreaterThan(0);
    expect(accuracyAfter).toBe(accuracyBefore);
    // The global policy did not learn from A (untrusted); whatever A's re-tune decided, it is A's alone.
    expect(await globalPolicy()).toBe(servicePolicy().version);
    expect((await versionsOf()).data.filter((v) => v.decision !== "shipped")).toEqual([]);
    const aVersions = await versionsOf(`?tenant=${a.tenantId}`);
    expect(aVersions.data.length).toBeGreaterThan(0);
    expect(aVersions.data.every((v) => v.version.startsWith(`${a.tenantId}/`))).toBe(true);
    expect((await versionsOf(`?tenant=${b.tenantId}`)).data).toEqual([]);
    // About 110 solves and 120 dry runs: seconds on an idle machine, longer on a shared one.
  }, 180_000);

  it("a trusted tenant's feedback moves the global policy and an untrusted one's does not; no source exceeds its share", async () => {
    const untrusted = await newTenant("untrusted");
    await logOutcomes(untrusted, 500, 31);
    await cron();
    // Its own policy may move; the global one does not: nothing from a trusted source arrived.
    expect(await globalPolicy()).toBe(servicePolicy().version);
    expect((await versionsOf()).data.filter((v) => v.decision !== "shipped")).toEqual([]);
    expect((await versionsOf(`?tenant=${untrusted.tenantId}`)).data.length).toBe(1);

    // One trusted tenant alone cannot re-tune the global policy under the 50% cap.
    const big = await newTenant("trusted, many outcomes");
    expect(await (await trust(big.tenantId, true)).json()).toMatchObject({ id: big.tenantId, trusted: true });
    await logOutcomes(big, 600, 32);
    const alone = await SELF.fetch(`${BASE}/v1/policy/retune`, { method: "POST", headers: ADMIN });
    expect(alone.status).toBe(422);
    expect(((await alone.json()) as { error: { message: string } }).error.message).toMatch(
      /no source may give more than 50% of the fit, so 0 per source were admitted/,
    );

    // A second trusted tenant: each admitted up to the smaller one's count, so neither exceeds half the fit.
    const small = await newTenant("trusted, fewer outcomes");
    expect((await trust(small.tenantId, true)).status).toBe(200);
    await logOutcomes(small, 250, 33);
    await cron();
    const global = await versionsOf();
    const fitted = global.data.filter((v) => v.decision !== "shipped");
    expect(fitted).toHaveLength(1);
    const v = fitted[0]!;
    expect(v.outcomes).toBe(500);
    expect(v.reason).toMatch(/trusted tenants offered 850 from 2 sources; .* 250 per source were admitted/);
    expect(`${v.decision}: ${v.reason}`).toMatch(/^promoted/);
    expect(await globalPolicy()).toBe(v.version);
    // The untrusted tenant's 500 outcomes were not read: it has its own policy, and B-like tenants follow the new global one.
    const fresh = await newTenant("fresh");
    const view = await solve(fresh, { prompt: problems(1, 99)[0]!.problem, budget: { tokens: 20_000 }, dry_run: true });
    expect((view.policy as { policyVersion: string }).policyVersion).toBe(v.version);

    // Distrusted again: its outcomes no longer count, and the lone remaining source is capped to nothing.
    expect((await trust(big.tenantId, false)).status).toBe(200);
    const after = await SELF.fetch(`${BASE}/v1/policy/retune`, { method: "POST", headers: ADMIN });
    expect(after.status).toBe(422);
    expect((await trust("ten_nope", true)).status).toBe(404);
    const listed = (await (await SELF.fetch(`${BASE}/admin/tenants`, { headers: ADMIN })).json()) as {
      data: { id: string; trusted: boolean }[];
    };
    expect(listed.data.filter((t) => t.trusted).map((t) => t.id)).toEqual([small.tenantId]);
  });
});
