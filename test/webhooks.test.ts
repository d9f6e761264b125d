/** Webhook pieces that need no runtime: the SSRF guard's table, Standard Webhooks signatures, the retry schedule. */
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { RETRY_DELAYS_MS, nextStep, parseRetryAfter } from "../src/webhooks/schedule";
import { generateSecret, sign, signatureHeader } from "../src/webhooks/signature";
import { checkResolved, checkWebhookUrl } from "../src/webhooks/ssrf";

const STRICT = { allowLocal: false };

describe("SSRF guard: webhook URLs", () => {
  const refused: [string, RegExp][] = [
    ["http://hooks.example.com/x", /must use https \(not http\)/],
    ["ftp://hooks.example.com/x", /must use https/],
    ["file:///etc/passwd", /must use https/],
    ["not a url", /not a valid absolute URL/],
    ["/relative/path", /not a valid absolute URL/],
    ["https://user:secret@hooks.example.com/x", /credentials/],
    ["https://user@hooks.example.com/x", /credentials/],
    ["https://127.0.0.1/x", /loopback/],
    ["https://127.1/x", /loopback/],
    ["https://2130706433/x", /loopback/],
    ["https://0x7f000001/x", /loopback/],
    ["https://[::1]/x", /loopback/],
    ["https://[::ffff:127.0.0.1]/x", /loopback/],
    ["https://[::ffff:a9fe:a9fe]/x", /linkLocal/],
    ["https://10.0.0.1/x", /private/],
    ["https://172.16.5.4/x", /private/],
    ["https://192.168.1.1/x", /private/],
    ["https://169.254.169.254/latest/meta-data/", /linkLocal/],
    ["https://100.64.0.1/x", /carrierGradeNat/],
    ["https://100.100.100.200/x", /carrierGradeNat/],
    ["https://[fd00:ec2::254]/x", /uniqueLocal/],
    ["https://[fe80::1]/x", /linkLocal/],
    ["https://0.0.0.0/x", /unspecified/],
    ["https://[::]/x", /unspecified/],
    ["https://255.255.255.255/x", /broadcast/],
    ["https://224.0.0.1/x", /multicast/],
    ["https://[64:ff9b::a00:1]/x", /NAT64 for 10\.0\.0\.1, a private/],
    ["https://[2002:7f00:1::]/x", /6to4 for 127\.0\.0\.1, a loopback/],
    ["https://localhost/x", /local host/],
    ["https://LOCALHOST./x", /local host/],
    ["https://api.localhost/x", /local host/],
    ["https://metadata.google.internal/x", /local host/],
    ["https://printer.local/x", /local host/],
    ["https://intranet/x", /without a domain/],
  ];
  for (const [url, reason] of refused) {
    it(`refuses ${url}`, () => {
      const v = checkWebhookUrl(url, STRICT);
      expect(v.ok).toBe(false);
      if (!v.ok) expect(v.reason).toMatch(reason);
    });
  }
  for (const url of [
    "https://hooks.example.com/ttc",
    "https://93.184.215.14:8443/x",
    "https://[2606:4700::1111]/x",
    "https://EXAMPLE.com./hook?x=1",
  ]) {
    it(`accepts ${url}`, () => expect(checkWebhookUrl(url, STRICT)).toEqual({ ok: true }));
  }
  it("allows plain http and local destinations only when local development is allowed", () => {
    expect(checkWebhookUrl("http://127.0.0.1:9000/hook", { allowLocal: true })).toEqual({ ok: true });
    expect(checkWebhookUrl("https://user:pw@localhost/hook", { allowLocal: true }).ok).toBe(false);
  });
  it("refuses a host that resolves to any non-public address", () => {
    expect(checkResolved("a.example.com", ["93.184.215.14", "2606:4700::1111"], STRICT)).toEqual({ ok: true });
    for (const [addresses, why] of [
      [["10.0.0.7"], /private/],
      [["93.184.215.14", "fd00::1"], /uniqueLocal/],
      [["::ffff:169.254.169.254"], /linkLocal/],
      [[], /does not resolve/],
    ] as const) {
      const v = checkResolved("a.example.com", addresses, STRICT);
      expect(v.ok).toBe(false);
      if (!v.ok) expect(v.reason).toMatch(why);
    }
  });
});

describe("Standard Webhooks signatures", () => {
  it("match the specification's published test vector", async () => {
    // From the Standard Webhooks specification and its reference libraries' tests.
    const sig = await sign(
      "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      "msg_p5jXN8AQM9LWM0D4loKWxJek",
      1614265330,
      '{"test": 2432232314}',
    );
    expect(sig).toBe("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  });

  it("verify with the standardwebhooks package, with either secret during a rotation, and not with another", async () => {
    const [oldSecret, newSecret, other] = [generateSecret(), generateSecret(), generateSecret()];
    expect(newSecret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    const ts = Math.floor(Date.now() / 1000);
    const body = JSON.stringify({ type: "solve.completed", data: { answer: "42" } });
    const headers = {
      "webhook-id": "msg_1",
      "webhook-timestamp": String(ts),
      "webhook-signature": await signatureHeader([newSecret, oldSecret], "msg_1", ts, body),
    };
    expect(headers["webhook-signature"].split(" ")).toHaveLength(2);
    expect(new Webhook(newSecret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(new Webhook(oldSecret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(other).verify(body, headers)).toThrow();
    expect(() => new Webhook(newSecret).verify(body.replace("42", "43"), headers)).toThrow();
  });
});

describe("retry schedule", () => {
  it("follows the schedule, honours a longer Retry-After, stops after the last attempt, and never retries 410 or a refused destination", () => {
    const now = 1_000_000;
    expect(nextStep({ kind: "failed", status: 500, error: "x" }, 1, now)).toEqual({ kind: "retry", at: now + 5_000 });
    expect(nextStep({ kind: "failed", status: 503, error: "x", retryAfterMs: 120_000 }, 1, now)).toEqual({
      kind: "retry",
      at: now + 120_000,
    });
    expect(nextStep({ kind: "failed", status: 429, error: "x", retryAfterMs: 1_000 }, 2, now)).toEqual({
      kind: "retry",
      at: now + 5 * 60_000,
    });
    expect(nextStep({ kind: "failed", status: 503, error: "x", retryAfterMs: 1e12 }, 1, now)).toEqual({
      kind: "retry",
      at: now + 24 * 3_600_000,
    });
    expect(nextStep({ kind: "failed", error: "x" }, RETRY_DELAYS_MS.length, now)).toEqual({
      kind: "done",
      status: "failed",
    });
    expect(nextStep({ kind: "gone", status: 410 }, 1, now)).toEqual({ kind: "done", status: "disabled" });
    expect(nextStep({ kind: "refused", reason: "x" }, 1, now)).toEqual({ kind: "done", status: "failed" });
    expect(nextStep({ kind: "delivered", status: 204 }, 3, now)).toEqual({ kind: "done", status: "delivered" });
    expect(parseRetryAfter("120", now)).toBe(120_000);
    expect(parseRetryAfter(new Date(now + 30_000).toUTCString(), now)).toBe(30_000);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
  });
});
