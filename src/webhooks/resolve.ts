/**
 * DNS for the SSRF guard, over DNS-over-HTTPS (JSON API): a Worker has no resolver of its own. A and AAAA
 * answers, CNAME chains followed by the resolver.
 */
export type Resolver = (host: string) => Promise<string[]>;

const DOH = "https://cloudflare-dns.com/dns-query";
const TYPES = { A: 1, AAAA: 28 } as const;

export function dohResolver(fetcher: typeof fetch = fetch): Resolver {
  return async (host) => {
    const out: string[] = [];
    for (const [type, code] of Object.entries(TYPES)) {
      const res = await fetcher(`${DOH}?name=${encodeURIComponent(host)}&type=${type}`, {
        headers: { accept: "application/dns-json" },
        signal: AbortSignal.timeout(5_000),
      });
      if (!res.ok) throw new Error(`DNS lookup of ${host} (${type}) answered HTTP ${res.status}`);
      const body = (await res.json()) as { Status?: number; Answer?: { type: number; data: string }[] };
      // NXDOMAIN and friends: no addresses of this type.
      if (body.Status !== 0) continue;
      for (const a of body.Answer ?? []) if (a.type === code) out.push(a.data);
    }
    return out;
  };
}
