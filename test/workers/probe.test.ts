/**
 * `auto` with a policy that probes first (POLICY = "default", policies/default.json), on workerd with real
 * D1 and Durable Objects: the probe is the solve's first durable step, logged and charged like any call, the
 * arm is chosen from its features within the rest of the cap, its samples are the arm's candidates, small
 * caps skip it, D1 records its features, and a dry run answers without starting anything.
 */
import { armNeeds } from "../../src/policy/choose";
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import app from "../../functions/index";
import { OPERATIONS } from "../../src/api/openapi";
import type { DryRunView, SolveView } from "../../src/api/schemas";
import type { StartInput } from "../../src/solve/input";
import { decideAuto } from "../../src/policy/auto";
import { configuredPolicy } from "../../src/policy/configured";
import type { PolicyDocument } from "../../src/policy/document";
import { PROBE_FEATURES } from "../../src/policy/probe";
import { expectedProbeTokens, probeSpec, probeWorstTokens } from "../../src/policy/probeStep";
import { StrategySpecSchema } from "../../src/engine/strategies";
import { providersFromEnv } from "../../src/wiring/providers";
import { testKey } from "./auth";
import { driveToEnd } from "./drive";

const PROMPT = "Start with 48. Add 17. Multiply by 6. Subtract 129. Divide by 3. What is the final number?";
const POLICY = configuredPolicy({ POLICY: "default" });
const wired = providersFromEnv(env.PROVIDERS, env as unknown as Record<string, unknown>);
if (!wired.ok) throw new Error(wired.error);
const costs = wired.wired.costs;
const WORST = probeWorstTokens(POLICY, PROMPT, costs);
/** Whatever bin the probe finds, its cheapest arm (the dearest of them): the cap must cover it after the probe. */
// What the cheapest arm of each bin needs of the cap (the shipped policy's arms: the cap each was chosen for).
const CHEAPEST = Math.max(
  ...[1, 2, 3, 4, 5].map((bin) =>
    Math.min(...POLICY.arms.filter((a) => a.bin === bin).map((a) => armNeeds(POLICY, a))),
  ),
);

type Decided = Extract<NonNullable<SolveView["policy"]>, { state: "decided" }>;

/** The service with POLICY = "default" (the var an operator sets), called as the Worker is. */
async function post(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await app.fetch(
    new Request("https://ttc.test/v1/solves", {
      method: "POST",
      headers: { authorization: `Bearer ${(await testKey()).key}`, "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    }),
    { ...env, POLICY: "default" },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

async function solve(body: Record<string, unknown>): Promise<{ started: SolveView; done: SolveView }> {
  const res = await post({ prompt: PROMPT, ...body });
  expect(res.status, await res.clone().text()).toBe(202);
  const started = (await res.json()) as SolveView;
  return { started, done: await driveToEnd(started.id) };
}

/** Parsing strips fields a schema does not name: equal output means every field of the answer is documented. */
function documented(status: 200 | 202, body: unknown): void {
  const schema = OPERATIONS.find((o) => o.method === "post" && o.path === "/v1/solves")!.responses[status]!.schema!;
  expect(schema.parse(body)).toEqual(body);
}

function decided(view: SolveView): Decided {
  if (view.policy?.state !== "decided") throw new Error(`not decided: ${JSON.stringify(view.policy)}`);
  return view.policy;
}

async function calls(id: string): Promise<{ step: number; purpose: string; samples: number; tokens: number }[]> {
  const rows = await env.DB.prepare(
    "SELECT step, purpose, samples, prompt_tokens + completion_tokens AS tokens FROM provider_calls WHERE solve_id = ? ORDER BY seq",
  )
    .bind(id)
    .all<{ step: number; purpose: string; samples: number; tokens: number }>();
  return rows.results;
}

describe("auto with a policy that probes first", () => {
  it("runs the probe as the first step, logged as the probe, then chooses the arm from its features within the rest of the cap", async () => {
    const cap = 60_000;
    const { started, done } = await solve({ budget: { tokens: cap }, seed: 3 });
    // Before the probe has run: probing, nothing chosen yet.
    expect(started.policy).toMatchObject({
      state: "probing",
      policyVersion: POLICY.version,
      estimator: "probe",
      capTokens: cap,
      capFrom: "request",
      probe: { samples: 8, temperature: POLICY.probe!.temperature },
    });
    expect(started.strategy).toBe("probe(n=8)");
    documented(202, started);
    documented(200, done);
    expect(done.status).toBe("done");
    const policy = decided(done);
    expect(policy).toMatchObject({
      estimator: "probe",
      policyVersion: POLICY.version,
      capTokens: cap,
      exploration: false,
    });
    expect(done.strategy).toBe(policy.config);
    // The probe's two steps come first in the call log, and what they cost is the probe's spend.
    const log = await calls(done.id);
    expect(log.slice(0, 2).map((c) => [c.step, c.purpose])).toEqual([
      [0, "probe-generate:generator"],
      [1, "probe-score:verifier"],
    ]);
    expect(log[0]!.samples).toBe(8);
    expect(log.slice(2).every((c) => !c.purpose.startsWith("probe"))).toBe(true);
    expect(policy.probe!.spend.tokens).toBe(log[0]!.tokens + log[1]!.tokens);
    expect(done.spend.tokens).toBe(log.reduce((t, c) => t + c.tokens, 0));
    expect(done.spend.tokens).toBeLessThanOrEqual(cap);
    // The arm is the policy's choice for these probe features with the probe's spend taken from the cap.
    const features = PROBE_FEATURES.map((n) => policy.probe!.features[n]!);
    const expected = decideAuto(
      POLICY,
      PROMPT,
      cap,
      undefined,
      { share: 0, draw: 1 },
      { features, spent: policy.probe!.spend.tokens },
    );
    expect({ bin: policy.bin, config: policy.config }).toEqual({ bin: expected.bin, config: expected.config });
    expect(policy.evidence.highTokens).toBeLessThanOrEqual(cap - policy.probe!.spend.tokens);
  });

  it("says in its event stream which arm the probe chose, and an Idempotency-Key retry is the same probing solve", async () => {
    const body = { prompt: PROMPT, budget: { tokens: 50_000 }, seed: 12 };
    const first = (await (await post(body, { "idempotency-key": "probe-once" })).json()) as SolveView;
    const again = (await (await post(body, { "idempotency-key": "probe-once" })).json()) as SolveView;
    expect(again.id).toBe(first.id);
    expect(again.policy?.state).toBe("probing");
    const done = await driveToEnd(first.id);
    const events = await env.SOLVE_SESSION.get(env.SOLVE_SESSION.idFromName(first.id)).eventsAfter(0);
    const withPolicy = events.filter((e) => (JSON.parse(e.data) as { policy?: unknown }).policy !== undefined);
    expect(withPolicy).toHaveLength(1);
    expect((JSON.parse(withPolicy[0]!.data) as { policy: unknown; steps: number }).policy).toEqual(done.policy);
    expect((JSON.parse(withPolicy[0]!.data) as { steps: number }).steps).toBe(2);
    expect((await post(body, { "idempotency-key": "probe-once" })).status).toBe(202);
  });

  it("records the probe's features in D1 with the estimator and bin, for a re-tune", async () => {
    const { done } = await solve({ budget: { tokens: 40_000 }, seed: 4 });
    const policy = decided(done);
    const row = await env.DB.prepare(
      "SELECT policy_version, predicted_bin, estimator, features, strategy FROM solves WHERE id = ?",
    )
      .bind(done.id)
      .first<{
        policy_version: string;
        predicted_bin: number;
        estimator: string;
        features: string;
        strategy: string;
      }>();
    expect(row).toMatchObject({
      policy_version: POLICY.version,
      predicted_bin: policy.bin,
      estimator: "probe",
      strategy: policy.config,
    });
    const vector = JSON.parse(row!.features) as number[];
    expect(vector).toHaveLength(POLICY.estimator.features.length);
    expect(vector.slice(-PROBE_FEATURES.length)).toEqual(PROBE_FEATURES.map((n) => policy.probe!.features[n]));
  });

  it("never spends beyond the token cap with the probe included, down to a cap just above what the probe needs", async () => {
    const threshold = Math.ceil(WORST + CHEAPEST);
    for (const [i, cap] of [threshold + 1, threshold + 500, 20_000, 120_000].entries()) {
      const { done } = await solve({ budget: { tokens: cap }, seed: 10 + i });
      const label = JSON.stringify({ cap, done });
      expect(decided(done).estimator, label).toBe("probe");
      expect(done.spend.tokens, label).toBeLessThanOrEqual(cap);
      // The call log (what the providers billed, copied to D1) agrees.
      expect(
        (await calls(done.id)).reduce((t, c) => t + c.tokens, 0),
        label,
      ).toBe(done.spend.tokens);
      expect(done.answer, label).not.toBeNull();
    }
  });

  it("skips the probe when the cap cannot afford it and an arm after it: the text decides, estimator free", async () => {
    const cap = Math.floor(WORST + CHEAPEST) - 1;
    const { started, done } = await solve({ budget: { tokens: cap }, seed: 5 });
    expect(started.policy?.state).toBe("decided");
    const policy = decided(done);
    expect(policy.estimator).toBe("free");
    expect(policy.probe).toBeUndefined();
    expect(policy.probeSkipped).toMatch(/cannot afford the probe/);
    expect(done.spend.tokens).toBeLessThanOrEqual(cap);
    expect((await calls(done.id)).some((c) => c.purpose.startsWith("probe"))).toBe(false);
    const row = await env.DB.prepare("SELECT estimator, features FROM solves WHERE id = ?")
      .bind(done.id)
      .first<{ estimator: string; features: string }>();
    expect(row?.estimator).toBe("free");
    expect((JSON.parse(row!.features) as number[]).length).toBe(
      POLICY.estimator.features.length - PROBE_FEATURES.length,
    );
    // A generation cap below the probe's samples skips it too.
    const small = await solve({ budget: { tokens: 100_000, generations: 4 }, seed: 5 });
    expect(decided(small.done)).toMatchObject({
      estimator: "free",
      probeSkipped: expect.stringMatching(/exceed the generation cap of 4/),
    });
    expect(small.done.spend.generations).toBeLessThanOrEqual(4);
  });

  it("a best-of-N arm starts from the probe's samples: N generations in all, not N + the probe", async () => {
    // A policy document given to the solve directly (as the edge does): every arm is best-of-16 weighted.
    const spec = StrategySpecSchema.parse({ strategy: "best-of-n", n: 16, selection: "weighted" });
    const policy: PolicyDocument = {
      ...POLICY,
      version: "test-bon16",
      arms: POLICY.arms.map((a) => ({ ...a, config: "best-of-n(n=16,weighted)", spec })),
    };
    const id = crypto.randomUUID();
    const input: StartInput = {
      id,
      tenantId: "t-probe",
      keyId: "",
      prompt: PROMPT,
      spec: probeSpec(policy),
      probe: {
        policy,
        capTokens: 500_000,
        capFrom: "request",
        explore: { share: 0, draw: 1 },
        worstTokens: WORST,
        expectedTokens: expectedProbeTokens(policy),
      },
      budget: { tokens: 500_000 },
      seed: 8,
    };
    const stub = env.SOLVE_SESSION.get(env.SOLVE_SESSION.idFromName(id));
    expect((await stub.start(input)).ok).toBe(true);
    const done = await driveToEnd(id);
    expect(decided(done).config).toBe("best-of-n(n=16,weighted)");
    expect(done.spend.generations).toBe(16);
    expect(done.spend.samples).toBe(16);
    const log = await calls(id);
    expect(log.map((c) => [c.purpose, c.samples])).toEqual([
      ["probe-generate:generator", 8],
      ["probe-score:verifier", 0],
      ["generate:generator", 8],
      ["score:verifier", 0],
    ]);
    // All 16 candidates are in the pool the answer was chosen from.
    const chosen = await stub.choices("t-probe", 16);
    expect(chosen.ok).toBe(true);
  });

  it("a dry run answers without starting anything: the probe that would run first, the text's prediction, the range", async () => {
    const usage = async () =>
      (await (
        await app.fetch(
          new Request("https://ttc.test/v1/usage", { headers: { authorization: `Bearer ${(await testKey()).key}` } }),
          env,
          createExecutionContext(),
        )
      ).json()) as { tokens: unknown };
    const solvesBefore = await env.DB.prepare("SELECT COUNT(*) AS n FROM solves").first<{ n: number }>();
    const before = await usage();
    const res = await post({ prompt: PROMPT, budget: { tokens: 60_000 }, dry_run: true });
    expect(res.status).toBe(200);
    const body = (await res.json()) as DryRunView;
    expect(body).not.toHaveProperty("id");
    documented(200, body);
    expect(body.policy).toMatchObject({
      state: "probing",
      policyVersion: POLICY.version,
      estimator: "probe",
      capTokens: 60_000,
      probe: { samples: 8, worstTokens: WORST, expectedTokens: expectedProbeTokens(POLICY) },
    });
    expect(body.forecast!.arms.map((a) => a.bin)).toEqual([1, 2, 3, 4, 5]);
    expect(body.forecast!.textOnly.bin).toBeGreaterThanOrEqual(1);
    expect(body.forecast!.accuracy.low).toBeLessThanOrEqual(body.forecast!.accuracy.high);
    expect(body.forecast!.tokens.low).toBeGreaterThan(0);
    // A cap too small for the probe: the dry run shows the text's own decision, as the start would make it.
    const small = (await (
      await post({ prompt: PROMPT, budget: { tokens: 2_000 }, dry_run: true })
    ).json()) as DryRunView;
    expect(small.policy).toMatchObject({ state: "decided", estimator: "free", probeSkipped: expect.any(String) });
    expect(small.forecast).toBeUndefined();
    documented(200, small);
    expect(await usage()).toEqual(before);
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM solves").first<{ n: number }>()).toEqual(solvesBefore);
  });
});
