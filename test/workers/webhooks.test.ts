/**
 * Webhooks end to end on workerd: a solve names a URL; its completion is delivered from the solve's outbox,
 * signed per Standard Webhooks (verified with the standardwebhooks package), retried on the schedule and
 * after Retry-After, never redirected, disabled by 410, logged in D1, listed and replayed. The receiver and
 * DNS are test doubles behind the outbound service (test/support/webhookReceiver.ts).
 */
import { env, runDurableObjectAlarm, runInDurableObject, SELF } from "cloudflare:test";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import type { SolveView } from "../../src/api/schemas";
import { newTenantKey, type TestKey } from "./auth";
import { driveToEnd } from "./drive";

const PROBLEM = "Start with 48. Add 17. Multiply by 6. Subtract 129. Divide by 3. What is the final number?";
const HOOKS = "https://hooks.example.com";

type Delivery = {
  id: string;
  status: string;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  nextAttemptAt: number | null;
  log: { attempt: number; statusCode: number | null; error: string | null }[];
};
type Logged = { headers: Record<string, string>; body: string };

async function script(name: string, statuses: number[], headers?: Record<string, string>): Promise<void> {
  await fetch(`${HOOKS}/_script/${name}`, { method: "POST", body: JSON.stringify({ statuses, headers }) });
}
const received = async (name: string): Promise<Logged[]> =>
  (await (await fetch(`${HOOKS}/_log/${name}`)).json()) as Logged[];
const outbound = async (): Promise<string[]> => (await (await fetch(`${HOOKS}/_outbound`)).json()) as string[];

function api(k: TestKey, path: string, init: RequestInit = {}): Promise<Response> {
  return SELF.fetch(`https://ttc.test${path}`, {
    ...init,
    headers: { ...k.headers, ...(init.headers as Record<string, string>) },
  });
}

async function solveWithHook(k: TestKey, url: string): Promise<SolveView> {
  const res = await api(k, "/v1/solves", {
    method: "POST",
    body: JSON.stringify({ prompt: PROBLEM, strategy: { strategy: "best-of-n", n: 4 }, seed: 1, webhook: { url } }),
  });
  expect(res.status, await res.clone().text()).toBe(202);
  return (await res.json()) as SolveView;
}

async function delivery(k: TestKey, solveId: string): Promise<Delivery> {
  return (await (await api(k, `/v1/webhooks/deliveries/msg_${solveId}`)).json()) as Delivery;
}

/** Run the solve's alarm (the next attempt) until its delivery has made `attempts` attempts. */
async function attempt(k: TestKey, solveId: string, attempts: number): Promise<Delivery> {
  const stub = env.SOLVE_SESSION.get(env.SOLVE_SESSION.idFromName(solveId));
  for (let i = 0; i < 200; i++) {
    const d = await delivery(k, solveId);
    if (d.attempts >= attempts) return d;
    await runDurableObjectAlarm(stub);
  }
  throw new Error(`delivery of ${solveId} did not reach ${attempts} attempts`);
}

async function alarmAt(solveId: string): Promise<number | null> {
  return runInDurableObject(env.SOLVE_SESSION.get(env.SOLVE_SESSION.idFromName(solveId)), (_i, state) =>
    state.storage.getAlarm(),
  );
}

describe("webhooks", () => {
  it("deliver a signed solve.completed that the standardwebhooks package verifies", async () => {
    const k = await newTenantKey();
    const { secret } = (await (await api(k, "/v1/webhooks/secret")).json()) as { secret: string };
    expect(secret).toMatch(/^whsec_/);
    const solve = await solveWithHook(k, `${HOOKS}/hook/ok`);
    const done = await driveToEnd(solve.id);
    const d = await attempt(k, solve.id, 1);
    expect(d).toMatchObject({ status: "delivered", attempts: 1, lastStatusCode: 200 });
    const [got] = await received("ok");
    const payload = new Webhook(secret).verify(got!.body, got!.headers) as { type: string; data: SolveView };
    expect(got!.headers["webhook-id"]).toBe(`msg_${solve.id}`);
    expect(payload.type).toBe("solve.completed");
    expect(payload.data).toMatchObject({ id: solve.id, status: "done", answer: done.answer });
    expect(await alarmAt(solve.id)).toBeNull();
  });

  it("retry on the schedule, honour Retry-After, keep the webhook-id, and log every attempt", async () => {
    const k = await newTenantKey();
    await script("flaky", [503, 500, 204], { "retry-after": "120" });
    const solve = await solveWithHook(k, `${HOOKS}/hook/flaky`);
    await driveToEnd(solve.id);
    const before = Date.now();
    let d = await attempt(k, solve.id, 1);
    expect(d).toMatchObject({ status: "pending", lastStatusCode: 503 });
    // Retry-After: 120 asks for more than the schedule's 5 s.
    expect(d.nextAttemptAt! - before).toBeGreaterThanOrEqual(119_000);
    expect(await alarmAt(solve.id)).toBe(d.nextAttemptAt);
    d = await attempt(k, solve.id, 2);
    expect(d).toMatchObject({ status: "pending", lastStatusCode: 500 });
    // The receiver's Retry-After (120 s) is less than the schedule's third delay (5 min).
    expect(d.nextAttemptAt! - Date.now()).toBeGreaterThan(4 * 60_000);
    d = await attempt(k, solve.id, 3);
    expect(d).toMatchObject({ status: "delivered", attempts: 3, lastStatusCode: 204 });
    expect(d.log.map((a) => a.statusCode)).toEqual([503, 500, 204]);
    const got = await received("flaky");
    expect(new Set(got.map((g) => g.headers["webhook-id"]))).toEqual(new Set([`msg_${solve.id}`]));
  });

  it("do not follow redirects", async () => {
    const k = await newTenantKey();
    await script("redirect", [302, 302, 302, 302, 302, 302, 302, 302], {
      location: "https://169.254.169.254/latest/meta-data/",
    });
    const solve = await solveWithHook(k, `${HOOKS}/hook/redirect`);
    await driveToEnd(solve.id);
    const d = await attempt(k, solve.id, 1);
    expect(d.lastError).toBe("answered 302 (redirects are not followed)");
    expect((await outbound()).some((u) => u.startsWith("169.254.169.254"))).toBe(false);
  });

  it("410 disables the endpoint: no more attempts, new solves naming it are refused until it is enabled again", async () => {
    const k = await newTenantKey();
    await script("gone", [410, 200]);
    const solve = await solveWithHook(k, `${HOOKS}/hook/gone`);
    await driveToEnd(solve.id);
    const d = await attempt(k, solve.id, 1);
    expect(d).toMatchObject({ status: "disabled", lastStatusCode: 410 });
    expect(await alarmAt(solve.id)).toBeNull();
    const refused = await api(k, "/v1/solves", {
      method: "POST",
      body: JSON.stringify({
        prompt: PROBLEM,
        strategy: { strategy: "best-of-n", n: 2 },
        webhook: { url: `${HOOKS}/hook/gone` },
      }),
    });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(
      /^webhook\.url: this endpoint was disabled after it answered 410 Gone/,
    );
    const enabled = await api(k, "/v1/webhooks/endpoints/enable", {
      method: "POST",
      body: JSON.stringify({ url: `${HOOKS}/hook/gone` }),
    });
    expect(enabled.status).toBe(200);
    const again = await solveWithHook(k, `${HOOKS}/hook/gone`);
    await driveToEnd(again.id);
    expect(await attempt(k, again.id, 1)).toMatchObject({ status: "delivered" });
  });

  it("a host that resolves to a private address gets nothing: the delivery fails at once, naming the address", async () => {
    const k = await newTenantKey();
    for (const host of ["rebind.example.com", "mixed.example.com", "metadata.example.com"]) {
      const solve = await solveWithHook(k, `https://${host}/hook`);
      await driveToEnd(solve.id);
      const d = await attempt(k, solve.id, 1);
      expect(d.status, host).toBe("failed");
      expect(d.lastError).toMatch(
        new RegExp(`^refused: ${host.replace(/\./g, "\\.")} resolves to [0-9a-f.:]+, which is not public`),
      );
    }
    expect((await outbound()).filter((u) => /^(rebind|mixed|metadata)\.example\.com/.test(u))).toEqual([]);
  });

  it("rotation: both secrets sign during the overlap, and either verifies", async () => {
    const k = await newTenantKey();
    const { secret: old } = (await (await api(k, "/v1/webhooks/secret")).json()) as { secret: string };
    const rotated = (await (await api(k, "/v1/webhooks/secret/rotate", { method: "POST" })).json()) as {
      secret: string;
      previousValidUntil: string;
    };
    expect(rotated.secret).not.toBe(old);
    expect(Date.parse(rotated.previousValidUntil)).toBeGreaterThan(Date.now() + 23 * 3_600_000);
    const solve = await solveWithHook(k, `${HOOKS}/hook/rotated`);
    await driveToEnd(solve.id);
    await attempt(k, solve.id, 1);
    const [got] = await received("rotated");
    expect(got!.headers["webhook-signature"]!.split(" ")).toHaveLength(2);
    expect(() => new Webhook(rotated.secret).verify(got!.body, got!.headers)).not.toThrow();
    expect(() => new Webhook(old).verify(got!.body, got!.headers)).not.toThrow();
  });

  it("list and replay deliveries, per tenant", async () => {
    const k = await newTenantKey();
    const other = await newTenantKey();
    const solve = await solveWithHook(k, `${HOOKS}/hook/replayed`);
    await driveToEnd(solve.id);
    await attempt(k, solve.id, 1);
    const list = (await (await api(k, `/v1/webhooks/deliveries?status=delivered`)).json()) as {
      data: { id: string; payload?: string }[];
    };
    expect(list.data.map((d) => d.id)).toEqual([`msg_${solve.id}`]);
    expect((await api(other, `/v1/webhooks/deliveries/msg_${solve.id}`)).status).toBe(404);
    expect((await api(other, `/v1/webhooks/deliveries/msg_${solve.id}/replay`, { method: "POST" })).status).toBe(404);
    const replay = await api(k, `/v1/webhooks/deliveries/msg_${solve.id}/replay`, { method: "POST" });
    expect(replay.status).toBe(202);
    const d = await attempt(k, solve.id, 2);
    expect(d).toMatchObject({ status: "delivered", attempts: 2 });
    const got = await received("replayed");
    expect(got.map((g) => g.headers["webhook-id"])).toEqual([`msg_${solve.id}`, `msg_${solve.id}`]);
    expect(got[1]!.body).toBe(got[0]!.body);
    expect((await api(k, "/v1/webhooks/deliveries?status=bogus")).status).toBe(400);
  });

  it("refuses forbidden webhook URLs when the solve is submitted, storing nothing", async () => {
    const k = await newTenantKey();
    const count = async () =>
      (await env.DB.prepare("SELECT COUNT(*) AS n FROM idempotency_keys WHERE tenant_id = ?")
        .bind(k.tenantId)
        .first<{ n: number }>())!.n;
    for (const url of [
      "http://hooks.example.com/x",
      "https://127.0.0.1/x",
      "https://10.1.2.3/x",
      "https://169.254.169.254/x",
      "https://[::1]/x",
      "https://localhost/x",
      "https://u:p@hooks.example.com/x",
      "nonsense",
    ]) {
      const res = await api(k, "/v1/solves", {
        method: "POST",
        headers: { "idempotency-key": `bad-${url}`.replace(/[^\x21-\x7e]/g, "_") },
        body: JSON.stringify({ prompt: PROBLEM, strategy: { strategy: "best-of-n", n: 2 }, webhook: { url } }),
      });
      expect(res.status, url).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/^webhook\.url: /);
    }
    expect(await count()).toBe(0);
    const usage = (await (await api(k, "/v1/usage")).json()) as { tokens: { reserved: number } };
    expect(usage.tokens.reserved).toBe(0);
  });
});
