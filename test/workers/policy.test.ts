import { createExecutionContext, createScheduledController, env, SELF, waitOnExecutionContext } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import worker from "../../functions/index";
import type { SolveView } from "../../src/api/schemas";
import { chooseArmFor } from "../../src/policy/choose";
import { promptFeatures } from "../../src/policy/features";
import { servicePolicy } from "../../src/policy/shipped";
import { Rng } from "../../src/engine/random";
import { generateProblems } from "../../src/sim/problems";
import { parseWorld } from "../../src/sim/world";
import defaultWorld from "../../worlds/default.json";
import { authedFetch, newTenantKey, testKey } from "./auth";

const ADMIN = { authorization: "Bearer test-admin-secret", "content-type": "application/json" };
const BASE = "https://ttc.test";

function problems(count: number, seed: number): string[] {
  const w = parseWorld(defaultWorld);
  if (!w.ok) throw new Error(w.error);
  return generateProblems(w.world, seed, count).map((r) => r.problem);
}

interface VersionList {
  active: string;
  data: {
    version: string;
    kind: string;
    decision: string;
    reason: string;
    active: boolean;
    outcomes: number;
    evaluation: {
      active: { accuracy: number; meanTokens: number; replayed: number };
      candidate: { accuracy: number; meanTokens: number; replayed: number };
    } | null;
  }[];
  history: { action: string; fromVersion: string; toVersion: string; actor: string }[];
}

/** The global policy's versions (the operator's view), or with a key its tenant's. */
async function versions(as: "admin" | "key" = "admin"): Promise<VersionList> {
  const res =
    as === "admin"
      ? await SELF.fetch(`${BASE}/v1/policy/versions`, { headers: ADMIN })
      : await authedFetch(`${BASE}/v1/policy/versions`);
  expect(res.status).toBe(200);
  return (await res.json()) as VersionList;
}

async function retune(headers: Record<string, string> = ADMIN, query = ""): Promise<Response> {
  return SELF.fetch(`${BASE}/v1/policy/retune${query}`, { method: "POST", headers });
}

async function rollback(body: unknown, headers: Record<string, string> = ADMIN, query = ""): Promise<Response> {
  return SELF.fetch(`${BASE}/v1/policy/rollback${query}`, { method: "POST", headers, body: JSON.stringify(body) });
}

/**
 * Labelled auto solves written to D1 as the service logs them: the features of real simulated prompts, the
 * arm the shipped policy (or, for a share of them, the bin's cheapest arm) chose at a 20,000-token cap, and an
 * outcome that favours the cheapest arm (right 92% of the time, the others 70%): a re-tune should find it.
 */
async function logOutcomes(count: number, seed: number, exploreShare = 0.5): Promise<void> {
  const policy = servicePolicy();
  const { tenantId, keyId } = await testKey();
  const rng = new Rng(seed);
  const prompts = problems(count, seed);
  const now = Date.now();
  const statements: D1PreparedStatement[] = [];
  prompts.forEach((prompt, i) => {
    const features = promptFeatures(prompt);
    const chosen = chooseArmFor(policy, features, 20_000, 0);
    const cheapest = policy.arms
      .filter((a) => a.bin === chosen.bin)
      .sort((a, b) => a.evidence.meanCost - b.evidence.meanCost)[0]!;
    const explore = rng.next() < exploreShare;
    const arm = explore ? cheapest : chosen.arm;
    const same = cheapest === chosen.arm;
    const propensity = same ? 1 : explore ? exploreShare : 1 - exploreShare;
    // Ids from the seed, so the re-tune's folds (by solve id) and so the test are the same on every run.
    const hex = Array.from({ length: 32 }, () => Math.floor(rng.next() * 16).toString(16)).join("");
    const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
    const correct = rng.next() < (arm === cheapest ? 0.92 : 0.7) ? 1 : 0;
    statements.push(
      env.DB.prepare(
        `INSERT INTO solves (id, tenant_id, key_id, prompt_hash, status, strategy, spec, budget, seed, generations, samples, generator_tokens, verifier_tokens, flops, money, steps, created_at, finished_at, policy_version, predicted_bin, estimator, exploration, features, cap_tokens, propensity)
         VALUES (?, ?, ?, 'h', 'done', ?, ?, '{"tokens":20000}', 1, ?, 1, ?, 0, 0, 0, 1, ?, ?, ?, ?, 'free', ?, ?, 20000, ?)`,
      ).bind(
        id,
        tenantId,
        keyId,
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
      ).bind(id, tenantId, correct, now - count + i),
    );
  });
  for (let i = 0; i < statements.length; i += 200) await env.DB.batch(statements.slice(i, i + 200));
}

describe("policy versions on workerd: re-tune from feedback, promotion, history and rollback", () => {
  // D1 is shared by this file's tests: each starts from no versions and no outcomes.
  beforeEach(async () => {
    await env.DB.batch(
      ["policy_active", "policy_tenant_active", "policy_events", "policy_versions", "solve_feedback", "solves"].map(
        (t) => env.DB.prepare(`DELETE FROM ${t}`),
      ),
    );
  });

  it("an operator installs a policy fitted elsewhere: validated in full, stored, activated when asked", async () => {
    const upload = (body: unknown, headers: Record<string, string> = ADMIN) =>
      SELF.fetch(`${BASE}/v1/policy/versions`, { method: "POST", headers, body: JSON.stringify(body) });
    const shipped = servicePolicy();
    const { headers } = await testKey();
    expect((await upload({ document: { ...shipped, version: "mine-1" } }, headers)).status).toBe(401);
    // Not a policy: the first offending field is named, and nothing is stored.
    const bad = await upload({
      document: { ...shipped, version: "mine-1", arms: shipped.arms.filter((a) => a.bin !== 3) },
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(
      /document: policy field arms: no arm for difficulty bin 3/,
    );
    const wrongFeatures = await upload({
      document: {
        ...shipped,
        version: "mine-1",
        estimator: { ...shipped.estimator, features: shipped.estimator.features.slice(1) },
      },
    });
    expect(wrongFeatures.status).toBe(400);
    expect((await versions()).data.map((v) => v.version)).toEqual([shipped.version]);
    expect((await upload({ document: shipped })).status).toBe(409);

    // Stored without activation, then activated by a rollback to it; then one activated at upload.
    const cheap = { ...shipped, version: "mine-1", arms: shipped.arms.map((a) => ({ ...a })) };
    const first = await upload({ document: cheap });
    expect(first.status).toBe(201);
    expect(await first.json()).toEqual({ version: "mine-1", active: shipped.version });
    expect((await rollback({ version: "mine-1" })).status).toBe(200);
    expect(((await (await authedFetch(`${BASE}/v1/policy`)).json()) as { version: string }).version).toBe("mine-1");
    const second = await upload({ document: { ...shipped, version: "mine-2" }, activate: true });
    expect(await second.json()).toEqual({ version: "mine-2", active: "mine-2" });
    const listed = await versions();
    expect(listed.active).toBe("mine-2");
    expect(listed.history.map((e) => `${e.action}:${e.fromVersion}->${e.toVersion}`)).toEqual([
      "activate:mine-1->mine-2",
      `rollback:${shipped.version}->mine-1`,
    ]);
    expect(listed.data.find((v) => v.version === "mine-1")).toMatchObject({
      decision: "uploaded",
      kind: "calibration",
    });
  });

  it("serves the shipped policy until a re-tune wins; a key reaches only its own tenant's policy", async () => {
    const res = await authedFetch(`${BASE}/v1/policy`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      version: string;
      since: number | null;
      kind: string;
      source: string;
      tenantId: string;
      document: { arms: unknown[] };
    };
    const { headers, tenantId } = await testKey();
    expect(body).toMatchObject({
      version: servicePolicy().version,
      since: null,
      kind: "calibration",
      source: "global",
      tenantId,
    });
    expect(body.document.arms.length).toBe(servicePolicy().arms.length);

    // A key's re-tune is its own tenant's (too few outcomes here); the global policy and uploads are the operator's.
    const own = await retune(headers);
    expect(own.status).toBe(422);
    expect(((await own.json()) as { error: { message: string } }).error.message).toMatch(/there are 0/);
    expect((await rollback({ version: servicePolicy().version }, headers)).status).toBe(404);
    expect((await rollback({ version: "global" }, headers)).status).toBe(409);
    const other = (await newTenantKey()).tenantId;
    for (const path of ["/v1/policy", "/v1/policy/versions"])
      expect((await authedFetch(`${BASE}${path}?tenant=${other}`)).status).toBe(403);
    expect((await retune(headers, `?tenant=${other}`)).status).toBe(403);
    expect((await SELF.fetch(`${BASE}/v1/policy`)).status).toBe(401);
    expect((await SELF.fetch(`${BASE}/v1/policy?tenant=ten_nope`, { headers: ADMIN })).status).toBe(404);
    const upload = await SELF.fetch(`${BASE}/v1/policy/versions`, {
      method: "POST",
      headers,
      body: JSON.stringify({ document: { ...servicePolicy(), version: "mine" } }),
    });
    expect(upload.status).toBe(401);
  });

  it("a re-tune with too few labelled outcomes is refused with the counts, and stores nothing", async () => {
    await logOutcomes(20, 11);
    const res = await retune((await testKey()).headers);
    expect(res.status).toBe(422);
    const err = (await res.json()) as { error: { message: string } };
    expect(err.error.message).toMatch(/at least 200 labelled outcomes .* there are 20/);
    // The global re-tune learns from trusted tenants only: this untrusted tenant's outcomes are not its.
    const global = await retune();
    expect(global.status).toBe(422);
    expect(((await global.json()) as { error: { message: string } }).error.message).toMatch(/there are 0/);
    expect((await versions("key")).data.filter((v) => v.kind === "retune")).toEqual([]);
    expect((await versions()).data.filter((v) => v.kind === "retune")).toEqual([]);
  });

  it("rollback refuses a malformed body, an unknown version and the active one", async () => {
    expect((await rollback({ versions: "x" })).status).toBe(400);
    const unknown = await rollback({ version: "no-such-version" });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toContain("no-such-version");
    expect((await rollback({ version: servicePolicy().version })).status).toBe(409);
  });

  it("the cron re-tunes a tenant's policy when enough of its outcomes arrived, promotes a cheaper policy its feedback supports, and its auto solves use it; it rolls back and forward", async () => {
    const shipped = servicePolicy().version;
    const { headers } = await testKey();
    // Fewer new outcomes than the cron waits for: nothing happens.
    await logOutcomes(60, 21);
    let ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "17 * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    expect((await versions("key")).data.filter((v) => v.kind === "retune")).toEqual([]);

    await logOutcomes(500, 22);
    ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "17 * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    const after = await versions("key");
    const retuned = after.data.filter((v) => v.kind === "retune");
    expect(retuned).toHaveLength(1);
    const v = retuned[0]!;
    // The cheapest arms are right more often here, so the re-tune moves to them.
    expect(`${v.decision}: ${v.reason}`).toMatch(/^promoted/);
    expect(v.evaluation!.candidate.meanTokens).toBeLessThan(v.evaluation!.active.meanTokens);
    expect(v.evaluation!.candidate.replayed).toBeGreaterThanOrEqual(30);
    expect(after.active).toBe(v.version);
    expect(v.version.startsWith(`${(await testKey()).tenantId}/retune-`)).toBe(true);
    expect(after.history[0]).toMatchObject({
      action: "promote",
      fromVersion: "global",
      toVersion: v.version,
      actor: "cron",
    });
    // The global policy is untouched: this tenant is not trusted.
    expect((await versions()).active).toBe(shipped);
    expect(
      ((await (await SELF.fetch(`${BASE}/v1/policy`, { headers: ADMIN })).json()) as { version: string }).version,
    ).toBe(shipped);

    const doc = (await (await authedFetch(`${BASE}/v1/policy`)).json()) as {
      version: string;
      kind: string;
      source: string;
      document: { estimator: { kind: string }; source: { kind: string } };
    };
    expect(doc).toMatchObject({
      version: v.version,
      kind: "retune",
      source: "tenant",
      document: { estimator: { kind: "logistic-outcome" }, source: { kind: "retune" } },
    });

    // A new auto solve is decided by the new version, and logged with the cap it was decided within.
    const solved = await authedFetch(`${BASE}/v1/solves`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ prompt: problems(1, 99)[0], budget: { tokens: 20_000 }, mode: "sync", seed: 3 }),
    });
    expect(solved.status).toBe(200);
    const view = (await solved.json()) as SolveView;
    expect(view.policy?.policyVersion).toBe(v.version);
    const row = await env.DB.prepare("SELECT policy_version, cap_tokens, features FROM solves WHERE id = ?")
      .bind(view.id)
      .first<{ policy_version: string; cap_tokens: number; features: string }>();
    expect(row).toMatchObject({ policy_version: v.version, cap_tokens: 20_000 });
    expect((JSON.parse(row!.features) as number[]).length).toBe(servicePolicy().estimator.features.length);

    // Back to following the global policy (the tenant's key), then forward again (the operator, naming the
    // tenant): both moves are in the tenant's history.
    const back = await rollback({ version: "global" }, headers);
    expect(back.status).toBe(200);
    expect(await back.json()).toMatchObject({ active: shipped, previous: v.version, source: "global" });
    expect((await versions("key")).active).toBe(shipped);
    expect(((await (await authedFetch(`${BASE}/v1/policy`)).json()) as { version: string }).version).toBe(shipped);
    // Another tenant cannot activate this tenant's version for itself, nor the operator as the global policy.
    expect((await rollback({ version: v.version })).status).toBe(404);
    expect((await rollback({ version: v.version }, (await newTenantKey()).headers)).status).toBe(404);
    const forward = await rollback({ version: v.version }, ADMIN, `?tenant=${(await testKey()).tenantId}`);
    expect(forward.status).toBe(200);
    const final = await versions("key");
    expect(final.active).toBe(v.version);
    expect(final.history.map((e) => `${e.action}:${e.toVersion}:${e.actor}`)).toEqual([
      `rollback:${v.version}:admin`,
      `rollback:global:tenant`,
      `promote:${v.version}:cron`,
    ]);

    // The tenant's re-tune right away runs on the same outcomes; whatever it decides, it is stored with its reason.
    const again = await retune(headers);
    expect(again.status).toBe(201);
    const report = (await again.json()) as {
      version: string;
      promoted: boolean;
      reason: string;
      active: string;
      parent: string;
    };
    expect(report.parent).toBe(v.version);
    expect(report.active).toBe(report.promoted ? report.version : v.version);
    const listed = (await versions("key")).data.find((x) => x.version === report.version);
    expect(listed).toMatchObject({ decision: report.promoted ? "promoted" : "rejected", reason: report.reason });
    if (!report.promoted) {
      // A version that was never active cannot be rolled back to.
      const never = await rollback({ version: report.version }, headers);
      expect(never.status).toBe(409);
    }
  });
});
