/**
 * One identity per webhook endpoint: after a 410 disables https://hooks.example.com/hook/gone-id, no other
 * spelling of it (a query, a fragment, percent-encoding, case, the default port, a trailing dot) names a
 * new destination, and any spelling enables it again.
 */
import { describe, expect, it } from "vitest";
import type { SolveView } from "../../src/api/schemas";
import { endpointIdentity } from "../../src/webhooks/endpoint";
import { newTenantKey } from "../workers/auth";
import { driveToEnd } from "../workers/drive";
import { api, attempted, expectErrorShape, postSolve, script } from "./support";

const URL_GONE = "https://hooks.example.com/hook/gone-id";

/** Spellings of URL_GONE a client might try. */
const VARIANTS = [
  `${URL_GONE}?x=1`,
  `${URL_GONE}?`,
  `${URL_GONE}#frag`,
  "https://hooks.example.com/hook/gone%2Did",
  "https://hooks.example.com/%68ook/gone-id",
  "https://hooks.example.com/%68%6F%6Fk/%67one-id?a=b#c",
  "https://HOOKS.Example.COM/hook/gone-id",
  "HTTPS://hooks.example.com/hook/gone-id",
  "https://hooks.example.com:443/hook/gone-id",
  "https://hooks.example.com./hook/gone-id",
  "https://hooks.example.com/hook/./gone-id",
  "https://hooks.example.com/hook/x/../gone-id",
  "https://hooks.example.com/hook/%2e/gone-id",
];

describe("endpoint identity", () => {
  it("is the same for every spelling of one endpoint, and different for different endpoints", () => {
    const id = endpointIdentity(URL_GONE);
    expect(id).toBe("https://hooks.example.com/hook/gone-id");
    for (const v of VARIANTS) expect(endpointIdentity(v), v).toBe(id);
    for (const other of [
      "https://hooks.example.com/hook/gone-id2",
      "https://hooks.example.com/hook/gone%2Fid",
      "https://hooks.example.com:8443/hook/gone-id",
      "https://other.example.com/hook/gone-id",
      "https://hooks.example.com/Hook/gone-id",
    ])
      expect(endpointIdentity(other), other).not.toBe(id);
    // Escapes that must stay escapes keep one spelling (upper-case hex).
    expect(endpointIdentity("https://h.example.com/a%2fb%3f%c3%a9")).toBe("https://h.example.com/a%2Fb%3F%C3%A9");
    expect(endpointIdentity("https://h.example.com/é")).toBe("https://h.example.com/%C3%A9");
  });

  it("a 410 disables every spelling of the endpoint until any spelling enables it again", async () => {
    const k = await newTenantKey();
    await script("gone-id", [410, 200]);
    const first = (await (await postSolve(k, { webhook: { url: `${URL_GONE}?first=1` } })).json()) as SolveView;
    await driveToEnd(first.id);
    expect(await attempted(k, first.id)).toMatchObject({ status: "disabled" });
    for (const url of [URL_GONE, ...VARIANTS]) {
      const res = await postSolve(k, { webhook: { url } });
      const text = await res.text();
      expect(res.status, `${url}: ${text}`).toBe(400);
      expect(expectErrorShape(text, url).message).toMatch(
        /^webhook\.url: this endpoint was disabled after it answered 410/,
      );
    }
    // Another tenant's endpoint list is its own.
    const other = await newTenantKey();
    expect((await postSolve(other, { webhook: { url: URL_GONE } })).status).toBe(202);
    // Enabled by an encoded spelling; then a solve naming it with a query is delivered.
    const enabled = await api(k, "/v1/webhooks/endpoints/enable", {
      method: "POST",
      body: JSON.stringify({ url: "https://HOOKS.example.com:443/%68ook/gone-id?y=2" }),
    });
    expect(enabled.status).toBe(200);
    const again = await postSolve(k, { webhook: { url: `${URL_GONE}?x=1` } });
    expect(again.status).toBe(202);
    const solve = (await again.json()) as SolveView;
    await driveToEnd(solve.id);
    expect(await attempted(k, solve.id)).toMatchObject({ status: "delivered" });
  });

  it("a delivery already queued to another spelling is not sent once the endpoint is disabled", async () => {
    const k = await newTenantKey();
    await script("gone-queued", [410]);
    // Both named before the 410 arrives, in two spellings.
    const a = (await (
      await postSolve(k, { webhook: { url: "https://hooks.example.com/hook/gone-queued" } })
    ).json()) as SolveView;
    const b = (await (
      await postSolve(k, { webhook: { url: "https://hooks.example.com/hook/gone%2Dqueued?again=1" } })
    ).json()) as SolveView;
    await driveToEnd(a.id);
    const da = await attempted(k, a.id);
    await driveToEnd(b.id);
    const db = await attempted(k, b.id);
    // Alarms also run on their own, so the two attempts may overlap: then both were sent and both got 410.
    // Otherwise the later one is refused without being sent. Never is one delivered.
    const [first, second] = da.status === "disabled" && db.status === "failed" ? [da, db] : [db, da];
    expect(first.status).toBe("disabled");
    if (second.status !== "disabled") {
      expect(second.status).toBe("failed");
      expect(second.lastError).toMatch(/disabled after it answered 410/);
    }
  });
});
