/**
 * Requests without a valid credential are throttled per client address (CF-Connecting-IP): beyond
 * UNAUTHENTICATED_LIMIT a minute they get 429 with Retry-After; other addresses, and valid keys from the same
 * address, are unaffected.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { clientAddress, countInMemory, UNAUTHENTICATED_LIMIT } from "../../src/auth/throttle";
import { newTenantKey } from "../workers/auth";
import { api, expectErrorShape } from "./support";

const BAD = { authorization: "Bearer ttc_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" };

describe("throttling the unauthenticated", () => {
  it("the Workers Rate Limiting binding is configured (wrangler.toml)", () => {
    expect(typeof (env as unknown as { UNAUTHENTICATED_LIMITER: RateLimit }).UNAUTHENTICATED_LIMITER.limit).toBe(
      "function",
    );
  });

  it("300 requests with bad keys from one address: 100 a window are 401, the rest 429 with Retry-After", async () => {
    const ip = "203.0.113.7";
    const statuses: number[] = [];
    // In parallel batches, as an attacker would send them.
    for (let batch = 0; batch < 6; batch++) {
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          api(
            null,
            i % 3 === 0 ? "/v1/usage" : i % 3 === 1 ? "/v1/solves" : "/v1/models",
            {
              method: i % 3 === 1 ? "POST" : "GET",
              headers: i % 2 ? BAD : {},
              ...(i % 3 === 1 ? { body: "{}" } : {}),
            },
            ip,
          ),
        ),
      );
      for (const res of answers) {
        statuses.push(res.status);
        const text = await res.text();
        expect([401, 429]).toContain(res.status);
        const err = expectErrorShape(text);
        if (res.status === 429) {
          expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
          expect(err.message).toMatch(/too many requests without a valid credential from this address/);
        }
      }
    }
    // The binding's windows are aligned to the clock: the run may straddle two, so 100 or up to 200 pass.
    const passed = statuses.filter((s) => s === 401).length;
    expect(passed).toBeGreaterThanOrEqual(UNAUTHENTICATED_LIMIT);
    expect(passed).toBeLessThanOrEqual(2 * UNAUTHENTICATED_LIMIT);
    expect(statuses.filter((s) => s === 429).length).toBe(300 - passed);
    // A valid key from the same address is served; another address is still told 401.
    const k = await newTenantKey();
    expect((await api(k, "/v1/usage", {}, ip)).status).toBe(200);
    expect((await api(null, "/v1/usage", { headers: BAD }, "203.0.113.8")).status).toBe(401);
  });

  it("wrong admin secrets count too", async () => {
    const ip = "203.0.113.9";
    const statuses: number[] = [];
    // 2.5 windows' worth: at most two windows pass, whatever the clock.
    for (let batch = 0; batch < 5; batch++) {
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          api(null, "/admin/keys", { headers: { authorization: `Bearer guess-${batch}-${i}` } }, ip),
        ),
      );
      for (const res of answers) {
        statuses.push(res.status);
        expectErrorShape(await res.text());
      }
    }
    expect(statuses.filter((s) => s === 401).length).toBeGreaterThanOrEqual(UNAUTHENTICATED_LIMIT);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(250 - 2 * UNAUTHENTICATED_LIMIT);
    expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
  });

  it("counts IPv6 clients per /64, and the in-memory fallback keeps a window per address", () => {
    const at = (ip: string) => clientAddress(new Request("https://x.test", { headers: { "cf-connecting-ip": ip } }));
    expect(at("2001:db8:1:2:aaaa::1")).toBe(at("2001:db8:1:2:bbbb::2"));
    expect(at("2001:db8:1:2::1")).not.toBe(at("2001:db8:1:3::1"));
    expect(at("::ffff:203.0.113.5")).toBe("203.0.113.5");
    expect(clientAddress(new Request("https://x.test"))).toBe("unknown");
    const t0 = 1_000_000;
    for (let i = 0; i < UNAUTHENTICATED_LIMIT; i++) expect(countInMemory("mem-a", t0 + i).ok).toBe(true);
    const over = countInMemory("mem-a", t0 + 1_000);
    expect(over).toEqual({ ok: false, retryAfterSeconds: 59 });
    expect(countInMemory("mem-b", t0 + 1_000).ok).toBe(true);
    expect(countInMemory("mem-a", t0 + 60_000).ok).toBe(true);
  });
});
