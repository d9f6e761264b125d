/**
 * The SSRF guard for webhook destinations. A URL is refused unless it is https (plain http only where
 * local development is allowed), carries no credentials, and names a host that is not, and does not
 * resolve to, anything but a public unicast address. The URL is checked when a solve names it and again
 * before every delivery, when the addresses its host resolves to are checked too; nothing is sent to a
 * refused one.
 *
 * An IPv6 address that carries an IPv4 address (IPv4-mapped, IPv4-compatible, IPv4-translated, NAT64,
 * 6to4, Teredo, ISATAP) is judged as the IPv4 address it carries: `[::127.0.0.1]` is loopback however it is
 * written. Every other IPv6 address must be global unicast (2000::/3) outside the special-purpose ranges.
 * Ranges are ipaddr.js's (node_modules/ipaddr.js/lib/ipaddr.js, `SpecialRanges`, RFC 6890 and successors).
 */
import ipaddr from "ipaddr.js";

export type Verdict = { ok: true } | { ok: false; reason: string };

export interface GuardOptions {
  /** Local development: plain http, and loopback or private destinations, are allowed. */
  allowLocal: boolean;
}

/** Names that resolve to this machine or a private network by convention, whatever DNS says. */
const LOCAL_NAMES = [
  /^localhost$/,
  /\.localhost$/,
  /^localhost\.localdomain$/,
  /\.localdomain$/,
  /\.local$/,
  /\.internal$/,
  /\.intranet$/,
  /\.lan$/,
  /\.home\.arpa$/,
  /\.arpa$/,
  /^metadata$/,
  /^metadata\.google\.internal$/,
];

/** The host as the guard sees it: lower case, brackets of an IPv6 literal and any trailing dots removed. */
export function bareHost(hostname: string): string {
  return hostname
    .toLowerCase()
    .replace(/^\[(.*)\]$/, "$1")
    .replace(/\.+$/, "");
}

/** The host as an address, when it is an IP literal. */

/** "an unspecified address", "a loopback address". */
function article(word: string): string {
  return /^[aeiou]/i.test(word) ? "an" : "a";
}
function literalAddress(host: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  return ipaddr.isValid(host) ? ipaddr.parse(host) : null;
}

/** An IPv4 address from two 16-bit IPv6 parts. */
function v4(hi: number, lo: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
}

/**
 * The IPv4 addresses an IPv6 address carries and the form that carries each. `whole`: the address is only
 * a way of writing IPv4 (its meaning is the IPv4 address's), as opposed to ISATAP's interface identifier,
 * which sits inside an otherwise ordinary IPv6 prefix.
 */
export function embeddedIPv4(a: ipaddr.IPv6): { form: string; address: ipaddr.IPv4; whole: boolean }[] {
  const p = a.parts;
  const zero = (from: number, to: number) => p.slice(from, to).every((x) => x === 0);
  const last = v4(p[6]!, p[7]!);
  // RFC 4291 §2.5.5.2: ::ffff:a.b.c.d
  if (zero(0, 5) && p[5] === 0xffff) return [{ form: "IPv4-mapped", address: last, whole: true }];
  // RFC 4291 §2.5.5.1 (deprecated): ::a.b.c.d; :: and ::1 are judged as themselves
  if (zero(0, 6) && !(p[6] === 0 && p[7]! <= 1)) return [{ form: "IPv4-compatible", address: last, whole: true }];
  // RFC 6145 (IPv4-translated): ::ffff:0:a.b.c.d
  if (zero(0, 4) && p[4] === 0xffff && p[5] === 0) return [{ form: "IPv4-translated", address: last, whole: true }];
  // RFC 6052 well-known NAT64 prefix 64:ff9b::/96
  if (p[0] === 0x64 && p[1] === 0xff9b && zero(2, 6)) return [{ form: "NAT64", address: last, whole: true }];
  // RFC 3056 6to4: 2002:AABB:CCDD::/48
  if (p[0] === 0x2002) return [{ form: "6to4", address: v4(p[1]!, p[2]!), whole: true }];
  // RFC 4380 Teredo: 2001:0:SERVER:flags:port:CLIENT, the client's address XOR-ed with all ones
  if (p[0] === 0x2001 && p[1] === 0) {
    return [
      { form: "Teredo (server)", address: v4(p[2]!, p[3]!), whole: true },
      { form: "Teredo (client)", address: v4(p[6]! ^ 0xffff, p[7]! ^ 0xffff), whole: true },
    ];
  }
  // RFC 5214 ISATAP interface identifier: ::0:5efe:a.b.c.d or ::200:5efe:a.b.c.d in any prefix
  if ((p[4]! & 0xfdff) === 0 && p[5] === 0x5efe) return [{ form: "ISATAP", address: last, whole: false }];
  return [];
}

/** IPv6 ranges whose addresses carry an IPv4 address and are judged by it. */
const CARRIERS = new Set(["unicast", "ipv4Mapped", "rfc6145", "rfc6052", "6to4", "teredo"]);
const GLOBAL_UNICAST = ipaddr.parseCIDR("2000::/3");
/** RFC 8215: local-use NAT64 prefixes, a private network's translators. */
const LOCAL_NAT64 = ipaddr.parseCIDR("64:ff9b:1::/48");

/** Why an address is not a public unicast destination, or null when it is. */
export function nonPublicReason(address: string): string | null {
  if (!ipaddr.isValid(address)) return `${address} is not an IP address`;
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === "ipv4") {
    const range = parsed.range();
    return range === "unicast" ? null : `${address} is ${article(range)} ${range} address`;
  }
  const a = parsed as ipaddr.IPv6;
  if (a.match(LOCAL_NAT64)) return `${address} is a local-use NAT64 address (64:ff9b:1::/48)`;
  const range = a.range();
  if (!CARRIERS.has(range)) return `${address} is ${article(range)} ${range} address`;
  const carried = embeddedIPv4(a);
  for (const c of carried) {
    const r = c.address.range();
    if (r !== "unicast") return `${address} is ${c.form} for ${c.address.toString()}, ${article(r)} ${r} address`;
  }
  if (carried.some((c) => c.whole)) return null;
  if (!a.match(GLOBAL_UNICAST)) return `${address} is outside global unicast space (2000::/3)`;
  return null;
}

/**
 * A dotted or dashed IPv4 address inside a name (`10.0.0.1.nip.io`, `169-254-169-254.sslip.io`): wildcard DNS
 * services answer with that address, so a non-public one is refused before any lookup.
 */
function embeddedInName(host: string): string | null {
  const re = /(?:^|[.-])(\d{1,3})[.-](\d{1,3})[.-](\d{1,3})[.-](\d{1,3})(?=$|[.-])/g;
  for (const m of host.matchAll(re)) {
    const octets = m.slice(1, 5).map(Number);
    if (octets.some((o) => o > 255)) continue;
    const why = nonPublicReason(octets.join("."));
    if (why) return why;
  }
  return null;
}

export function checkWebhookUrl(raw: string, options: GuardOptions): Verdict {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: "is not a valid absolute URL" };
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && options.allowLocal))
    return { ok: false, reason: `must use https (not ${url.protocol.replace(":", "")})` };
  if (url.username || url.password) return { ok: false, reason: "must not carry credentials (user:password@)" };
  if (options.allowLocal) return { ok: true };
  // The URL parser has already turned octal, hex and short IPv4 forms (0177.0.0.1, 0x7f.1, 127.1, 2130706433)
  // into dotted decimal and compressed IPv6 literals; ipaddr.js reads the same forms should one get through.
  const host = bareHost(url.hostname);
  if (host === "") return { ok: false, reason: "names no host" };
  const literal = literalAddress(host);
  if (literal) {
    const why = nonPublicReason(literal.toString());
    return why ? { ok: false, reason: `is not a public address: ${why}` } : { ok: true };
  }
  if (LOCAL_NAMES.some((re) => re.test(host))) return { ok: false, reason: `names a local host (${host})` };
  if (!host.includes(".")) return { ok: false, reason: `names a host without a domain (${host})` };
  const inName = embeddedInName(host);
  if (inName) return { ok: false, reason: `names a host that spells a non-public address: ${inName}` };
  return { ok: true };
}

/** The addresses a host resolved to: all must be public. */
export function checkResolved(host: string, addresses: readonly string[], options: GuardOptions): Verdict {
  if (options.allowLocal) return { ok: true };
  if (addresses.length === 0) return { ok: false, reason: `${host} does not resolve` };
  for (const a of addresses) {
    const why = nonPublicReason(a);
    if (why) return { ok: false, reason: `${host} resolves to ${a}, which is not public (${why})` };
  }
  return { ok: true };
}

/** The host to resolve, or null when the URL names an address. */
export function hostToResolve(url: URL): string | null {
  const host = bareHost(url.hostname);
  return literalAddress(host) ? null : host;
}
