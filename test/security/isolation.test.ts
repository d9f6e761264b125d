/**
 * Authentication and tenant isolation, as an attacker tries them: no route answers without a credential,
 * an API key is not an admin credential, a revoked key stops at once, and another tenant's solves,
 * deliveries and feedback are indistinguishable from ones that do not exist.
 */
import { describe, expect, it } from "vitest";
import type { SolveView } from "../../src/api/schemas";
import { OPERATIONS } from "../../src/api/openapi";
import { newTenantKey } from "../workers/auth";
import { driveToEnd } from "../workers/drive";
import { ADMIN, api, attempted, expectErrorShape, postSolve, script } from "./support";

const ID = "00000000-0000-4000-8000-000000000000";

describe("authentication", () => {
  it("every /v1 and /admin route refuses no credential, a malformed one, an unknown key and an API key on admin routes", async () => {
    const k = await newTenantKey();
    let n = 0;
    for (const op of OPERATIONS.filter((o) => o.path.startsWith("/v1") || o.path.startsWith("/admin"))) {
      // The model list is public in OpenAI's API; ours needs a key too.
      // Policy routes take a key for its own tenant's policy (docs/policy-isolation.md); an upload is the operator's.
      const admin = op.path.startsWith("/admin") || (op.path === "/v1/policy/versions" && op.method === "post");
      const path = op.path.replace(":id", ID);
      const creds: Record<string, string>[] = [
        {},
        { authorization: "Bearer" },
        { authorization: "Basic dXNlcjpwYXNz" },
        { authorization: "Bearer ttc_" + "A".repeat(43) },
        { authorization: `Bearer ${"x".repeat(5000)}` },
      ];
      if (admin) creds.push(k.headers);
      for (const headers of creds) {
        const res = await api(
          null,
          path,
          {
            method: op.method.toUpperCase(),
            headers,
            ...(op.method === "post" ? { body: "{}" } : {}),
          },
          `192.0.2.${(n++ % 200) + 1}`,
        );
        const text = await res.text();
        expect(res.status, `${op.method} ${path} ${JSON.stringify(headers).slice(0, 60)}: ${text}`).toBe(401);
        expectErrorShape(text);
      }
    }
  });

  it("a revoked key stops working at once, on every route", async () => {
    const k = await newTenantKey();
    const solve = (await (await postSolve(k, {})).json()) as SolveView;
    const revoke = await api(null, `/admin/keys/${k.keyId}/revoke`, { method: "POST", headers: ADMIN });
    expect(revoke.status).toBe(200);
    for (const path of ["/v1/usage", `/v1/solves/${solve.id}`, "/v1/webhooks/secret"])
      expect((await api(k, path)).status, path).toBe(401);
  });
});

describe("tenant isolation", () => {
  it("another tenant's solve, delivery and feedback answer exactly as ones that do not exist", async () => {
    const owner = await newTenantKey();
    const intruder = await newTenantKey();
    await script("iso", [200]);
    const solve = (await (
      await postSolve(owner, { webhook: { url: "https://hooks.example.com/hook/iso" } })
    ).json()) as SolveView;
    await driveToEnd(solve.id);
    await attempted(owner, solve.id);
    const probes: [string, string, unknown?][] = [
      ["GET", `/v1/solves/${solve.id}`],
      ["GET", `/v1/solves/${solve.id}/events`],
      ["POST", `/v1/solves/${solve.id}/feedback`, { correct: false }],
      ["POST", `/v1/solves/${solve.id}/cancel`],
      ["GET", `/v1/webhooks/deliveries/msg_${solve.id}`],
      ["POST", `/v1/webhooks/deliveries/msg_${solve.id}/replay`],
    ];
    for (const [method, path, body] of probes) {
      const theirs = await api(intruder, path, { method, ...(body ? { body: JSON.stringify(body) } : {}) });
      const none = await api(intruder, path.replace(solve.id, ID), {
        method,
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      const [a, b] = [await theirs.text(), await none.text()];
      expect(theirs.status, `${method} ${path}`).toBe(404);
      expect(none.status, `${method} ${path} (none)`).toBe(404);
      // The same words, the id aside: nothing tells the intruder the solve exists.
      expect(a.replaceAll(solve.id, ID)).toBe(b);
    }
    const listed = (await (await api(intruder, `/v1/webhooks/deliveries?solveId=${solve.id}`)).json()) as {
      data: unknown[];
    };
    expect(listed.data).toEqual([]);
    // The owner still sees all of it, and no feedback was recorded by the intruder.
    expect((await api(owner, `/v1/solves/${solve.id}`)).status).toBe(200);
    expect((await api(owner, `/v1/webhooks/deliveries/msg_${solve.id}`)).status).toBe(200);
  });

  it("each tenant has its own webhook secret", async () => {
    const [a, b] = [await newTenantKey(), await newTenantKey()];
    const secret = async (k: typeof a) =>
      ((await (await api(k, "/v1/webhooks/secret")).json()) as { secret: string }).secret;
    expect(await secret(a)).not.toBe(await secret(b));
  });
});
