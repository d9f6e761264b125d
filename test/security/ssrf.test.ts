/**
 * SSRF: every disguise of a local, private, metadata or otherwise non-public destination is refused when a
 * solve names it (400 naming the reason) and again at delivery, where the addresses its host resolves to are
 * judged the same way; IPv6 forms that carry an IPv4 address are judged as that address.
 */
import { describe, expect, it } from "vitest";
import type { SolveView } from "../../src/api/schemas";
import { checkResolved, checkWebhookUrl, embeddedIPv4, nonPublicReason } from "../../src/webhooks/ssrf";
import ipaddr from "ipaddr.js";
import { newTenantKey } from "../workers/auth";
import { driveToEnd } from "../workers/drive";
import { api, attempted, expectErrorShape, outbound, postSolve } from "./support";

const STRICT = { allowLocal: false };

/** [url, what the refusal must say]. */
const REFUSED: [string, RegExp][] = [
  // IPv4 loopback in every spelling the URL parser accepts
  ["https://127.0.0.1/x", /127\.0\.0\.1 is a loopback/],
  ["https://0177.0.0.1/x", /loopback/],
  ["https://0x7f.1/x", /loopback/],
  ["https://0x7f.0.0.1/x", /loopback/],
  ["https://127.1/x", /loopback/],
  ["https://2130706433/x", /loopback/],
  ["https://0x7f000001/x", /loopback/],
  ["https://017700000001/x", /loopback/],
  ["https://127.0.0.1./x", /loopback/],
  ["https://127.255.255.254:8443/x", /loopback/],
  // IPv6 loopback and unspecified
  ["https://[::1]/x", /loopback/],
  ["https://[0:0:0:0:0:0:0:1]/x", /loopback/],
  ["https://[::]/x", /unspecified/],
  ["https://0.0.0.0/x", /unspecified/],
  ["https://0/x", /unspecified/],
  // IPv4-compatible (the reproduction)
  ["https://[::127.0.0.1]/x", /IPv4-compatible for 127\.0\.0\.1, a loopback/],
  ["https://[::169.254.169.254]/x", /IPv4-compatible for 169\.254\.169\.254, a linkLocal/],
  ["https://[::10.0.0.1]/x", /IPv4-compatible for 10\.0\.0\.1, a private/],
  ["https://[::0.0.0.2]/x", /IPv4-compatible for 0\.0\.0\.2, an unspecified/],
  // IPv4-mapped and -translated
  ["https://[::ffff:127.0.0.1]/x", /IPv4-mapped for 127\.0\.0\.1, a loopback/],
  ["https://[::ffff:7f00:1]/x", /IPv4-mapped for 127\.0\.0\.1/],
  ["https://[::ffff:a9fe:a9fe]/x", /IPv4-mapped for 169\.254\.169\.254, a linkLocal/],
  ["https://[::ffff:0.0.0.0]/x", /IPv4-mapped for 0\.0\.0\.0, an unspecified/],
  ["https://[::ffff:0:10.0.0.1]/x", /IPv4-translated for 10\.0\.0\.1, a private/],
  // NAT64
  ["https://[64:ff9b::127.0.0.1]/x", /NAT64 for 127\.0\.0\.1, a loopback/],
  ["https://[64:ff9b::169.254.169.254]/x", /NAT64 for 169\.254\.169\.254, a linkLocal/],
  ["https://[64:ff9b::a00:1]/x", /NAT64 for 10\.0\.0\.1, a private/],
  ["https://[64:ff9b:1::a00:1]/x", /local-use NAT64/],
  // 6to4
  ["https://[2002:7f00:1::]/x", /6to4 for 127\.0\.0\.1, a loopback/],
  ["https://[2002:a9fe:a9fe::1]/x", /6to4 for 169\.254\.169\.254/],
  ["https://[2002:c0a8:101::1]/x", /6to4 for 192\.168\.1\.1, a private/],
  // Teredo: server in bits 32-63, client XOR-ed in the last 32 bits
  ["https://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/x", /Teredo \(client\) for 10\.0\.0\.1, a private/],
  ["https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/x", /Teredo \(client\) for 127\.0\.0\.1, a loopback/],
  ["https://[2001:0:a00:1:8000:63bf:bc2c:4c32]/x", /Teredo \(server\) for 10\.0\.0\.1, a private/],
  // ISATAP interface identifier in a global prefix
  ["https://[2001:4860::5efe:a9fe:a9fe]/x", /ISATAP for 169\.254\.169\.254/],
  // Unique-local, link-local, site-local, multicast, documentation, benchmarking, discard, unallocated
  ["https://[fc00::1]/x", /uniqueLocal/],
  ["https://[fd00:ec2::254]/x", /uniqueLocal/],
  ["https://[fe80::1]/x", /linkLocal/],
  ["https://[fec0::1]/x", /deprecatedSiteLocal/],
  ["https://[ff02::1]/x", /multicast/],
  ["https://[2001:db8::1]/x", /reserved/],
  ["https://[2001:2::1]/x", /benchmarking/],
  ["https://[100::1]/x", /discard/],
  ["https://[4000::1]/x", /outside global unicast space/],
  // IPv4 private, link-local (metadata), CGNAT, benchmarking, reserved, broadcast, multicast
  ["https://169.254.169.254/latest/meta-data/", /linkLocal/],
  ["https://10.0.0.1/x", /private/],
  ["https://172.16.0.1/x", /private/],
  ["https://192.168.0.1/x", /private/],
  ["https://100.64.0.1/x", /carrierGradeNat/],
  ["https://100.127.255.254/x", /carrierGradeNat/],
  ["https://100.100.100.200/x", /carrierGradeNat/],
  ["https://198.18.0.1/x", /reserved/],
  ["https://192.0.2.1/x", /reserved/],
  ["https://240.0.0.1/x", /reserved/],
  ["https://255.255.255.255/x", /broadcast/],
  ["https://224.0.0.251/x", /multicast/],
  // Names
  ["https://localhost/x", /local host/],
  ["https://LOCALHOST./x", /local host \(localhost\)/],
  ["https://localhost../x", /local host/],
  ["https://api.localhost/x", /local host/],
  ["https://foo.LocalHost./x", /local host/],
  ["https://metadata/x", /local host/],
  ["https://metadata.google.internal/x", /local host/],
  ["https://printer.local/x", /local host/],
  ["https://intranet/x", /without a domain/],
  ["https://10.0.0.1.nip.io/x", /spells a non-public address: 10\.0\.0\.1/],
  ["https://169-254-169-254.sslip.io/x", /spells a non-public address: 169\.254\.169\.254/],
  // Scheme and credentials
  ["http://hooks.example.com/x", /must use https/],
  ["gopher://hooks.example.com/x", /must use https/],
  ["https://user:pw@hooks.example.com/x", /credentials/],
];

const ACCEPTED = [
  "https://hooks.example.com/x",
  "https://93.184.215.14/x",
  "https://8.8.8.8:8443/x",
  "https://[2606:4700::1111]/x",
  "https://[::ffff:93.184.215.14]/x",
  "https://[64:ff9b::93.184.215.14]/x",
  "https://[2002:5db8:d70e::1]/x",
  "https://api-1-2-3-4.example.com/x",
  "https://EXAMPLE.com./hook?x=1",
];

describe("SSRF guard: the table", () => {
  it(`has at least 40 refused forms (${REFUSED.length}) and refuses each with its reason`, () => {
    expect(REFUSED.length).toBeGreaterThanOrEqual(40);
    for (const [url, why] of REFUSED) {
      const v = checkWebhookUrl(url, STRICT);
      expect(v.ok, url).toBe(false);
      if (!v.ok) expect(v.reason, url).toMatch(why);
    }
  });

  it("accepts public destinations, including IPv6 forms that carry a public IPv4 address", () => {
    for (const url of ACCEPTED) expect(checkWebhookUrl(url, STRICT), url).toEqual({ ok: true });
  });

  it("reads every embedded IPv4 form, Teredo's client XOR-ed", () => {
    const carried = (a: string) =>
      embeddedIPv4(ipaddr.parse(a) as ipaddr.IPv6).map((c) => `${c.form}=${c.address.toString()}`);
    expect(carried("::7f00:1")).toEqual(["IPv4-compatible=127.0.0.1"]);
    expect(carried("2001:0:4136:e378:8000:63bf:3fff:fdd2")).toEqual([
      "Teredo (server)=65.54.227.120",
      "Teredo (client)=192.0.2.45",
    ]);
    expect(carried("2002:c000:0204::1")).toEqual(["6to4=192.0.2.4"]);
    expect(carried("2606:4700::1111")).toEqual([]);
    // RFC 4380's example: a client behind 192.0.2.45 is in documentation space, so the whole address is refused.
    expect(nonPublicReason("2001:0:4136:e378:8000:63bf:3fff:fdd2")).toMatch(/Teredo \(client\) for 192\.0\.2\.45/);
  });

  it("judges resolved addresses the same way", () => {
    for (const a of ["::a9fe:a9fe", "64:ff9b::a00:1", "2002:7f00:1::", "::ffff:10.0.0.1", "fd00::1", "100.64.1.1"]) {
      const v = checkResolved("x.example.com", [a], STRICT);
      expect(v.ok, a).toBe(false);
    }
    expect(checkResolved("x.example.com", ["93.184.215.14", "2606:4700::1111"], STRICT)).toEqual({ ok: true });
  });
});

describe("SSRF guard: through the API", () => {
  it("refuses every disguised destination when a solve names it: 400 naming the reason, nothing started", async () => {
    const k = await newTenantKey();
    for (const [url, why] of REFUSED) {
      const res = await postSolve(k, { webhook: { url } });
      const text = await res.text();
      expect(res.status, `${url}: ${text}`).toBe(400);
      const err = expectErrorShape(text, url);
      expect(err.message, url).toMatch(/^webhook\.url: /);
      expect(err.message, url).toMatch(why);
    }
    const started = await api(k, "/v1/webhooks/deliveries");
    expect(((await started.json()) as { data: unknown[] }).data).toEqual([]);
  });

  it("accepts a public destination (202)", async () => {
    const k = await newTenantKey();
    const res = await postSolve(k, { webhook: { url: "https://hooks.example.com/hook/public" } });
    expect(res.status).toBe(202);
  });

  it("at delivery, a host whose AAAA carries a non-public IPv4 gets nothing: the attempt is refused, naming it", async () => {
    const k = await newTenantKey();
    const hosts: [string, RegExp][] = [
      ["compat.example.com", /IPv4-compatible for 169\.254\.169\.254/],
      ["nat64.example.com", /NAT64 for 10\.0\.0\.1/],
      ["sixtofour.example.com", /6to4 for 169\.254\.169\.254/],
      ["teredo.example.com", /Teredo \(client\) for 127\.0\.0\.1/],
    ];
    for (const [host, why] of hosts) {
      const res = await postSolve(k, { webhook: { url: `https://${host}/hook` } });
      expect(res.status, host).toBe(202);
      const solve = (await res.json()) as SolveView;
      await driveToEnd(solve.id);
      const d = await attempted(k, solve.id);
      expect(d.status, host).toBe("failed");
      expect(d.lastError, host).toMatch(/^refused: /);
      expect(d.lastError, host).toMatch(why);
    }
    const sent = await outbound();
    for (const [host] of hosts) expect(sent.filter((u) => u.startsWith(host))).toEqual([]);
  });
});
