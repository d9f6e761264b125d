/**
 * Test doubles for the outside world of webhooks, served to workerd tests through the outbound service:
 * a DNS-over-HTTPS resolver with a fixed table, and a receiver at https://hooks.example.com that answers
 * each path with a scripted sequence of statuses and logs what it got. Every outbound request is logged,
 * so tests can check that nothing was sent to a refused destination.
 */
import { Hono } from "hono";

export const DNS_TABLE: Record<string, string[]> = {
  "hooks.example.com": ["93.184.215.14"],
  "rebind.example.com": ["10.0.0.7"],
  "mixed.example.com": ["93.184.215.15", "fd00::1"],
  "metadata.example.com": ["169.254.169.254"],
  // IPv6 answers that carry a non-public IPv4 address (test/security/ssrf.test.ts).
  "compat.example.com": ["::a9fe:a9fe"],
  "nat64.example.com": ["64:ff9b::a00:1"],
  "sixtofour.example.com": ["2002:a9fe:a9fe::1"],
  "teredo.example.com": ["2001:0:4136:e378:8000:63bf:80ff:fffe"],
};

interface Script {
  statuses: number[];
  headers?: Record<string, string>;
}

export function webhookWorld() {
  const scripts = new Map<string, Script>();
  const log = new Map<string, { headers: Record<string, string>; body: string }[]>();
  const outbound: string[] = [];

  const receiver = new Hono();
  receiver.post("/_script/:name", async (c) => {
    scripts.set(c.req.param("name"), (await c.req.json()) as Script);
    return c.json({ ok: true });
  });
  receiver.get("/_log/:name", (c) => c.json(log.get(c.req.param("name")) ?? []));
  receiver.get("/_outbound", (c) => c.json(outbound));
  receiver.post("/hook/:name", async (c) => {
    const name = c.req.param("name");
    const entries = log.get(name) ?? [];
    entries.push({ headers: Object.fromEntries(c.req.raw.headers), body: await c.req.text() });
    log.set(name, entries);
    const script = scripts.get(name);
    const status = script?.statuses[Math.min(entries.length - 1, script.statuses.length - 1)] ?? 200;
    return new Response(status === 204 ? null : `status ${status}`, { status, headers: script?.headers ?? {} });
  });

  return async (request: Request): Promise<Response | undefined> => {
    const url = new URL(request.url);
    if (!url.pathname.startsWith("/_")) outbound.push(`${url.host}${url.pathname}`);
    if (url.host === "cloudflare-dns.com") {
      const name = url.searchParams.get("name") ?? "";
      const type = url.searchParams.get("type") === "AAAA" ? 28 : 1;
      const addresses = DNS_TABLE[name];
      if (!addresses) return Response.json({ Status: 3 });
      const answer = addresses
        .filter((a) => a.includes(":") === (type === 28))
        .map((data) => ({ name, type, TTL: 60, data }));
      return Response.json({ Status: 0, Answer: answer });
    }
    if (url.host === "hooks.example.com") return receiver.fetch(request);
    return undefined;
  };
}
