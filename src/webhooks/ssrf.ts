/**
 * The SSRF guard for webhook destinations. A URL is refused unless it is https (plain http only where
 * local development is allowed), carries no credentials, and names a host that is not, and does not
 * resolve to, a loopback, private, link-local, CGNAT, unique-local, metadata or otherwise special address.
 * The URL is checked when a solve names it; the addresses its host resolves to are checked before every
 * delivery, and nothing is sent to a refused one.
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
  /\.local$/,
  /\.internal$/,
  /\.home\.arpa$/,
  /^metadata$/,
  /^metadata\.google\.internal$/,
];

/** The host as an address, when it is an IP literal (brackets and a trailing dot removed). */
function literalAddress(hostname: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  const bare = hostname.replace(/^\[(.*)\]$/, "$1");
  return ipaddr.isValid(bare) ? ipaddr.parse(bare) : null;
}

/** Why an address is not a public unicast destination, or null when it is. */
export function nonPublicReason(address: string): string | null {
  if (!ipaddr.isValid(address)) return `${address} is not an IP address`;
  let parsed = ipaddr.parse(address);
  // An IPv4 address written as IPv6 is judged as the IPv4 address it is.
  if (parsed.kind() === "ipv6" && (parsed as ipaddr.IPv6).isIPv4MappedAddress())
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  const range = parsed.range();
  return range === "unicast" ? null : `${address} is a ${range} address`;
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
  const host = url.hostname.toLowerCase().replace(/\.$/, "");
  const literal = literalAddress(host);
  if (literal) {
    const why = nonPublicReason(literal.toString());
    return why ? { ok: false, reason: `is not a public address: ${why}` } : { ok: true };
  }
  if (LOCAL_NAMES.some((re) => re.test(host))) return { ok: false, reason: `names a local host (${host})` };
  if (!host.includes(".")) return { ok: false, reason: `names a host without a domain (${host})` };
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
  const host = url.hostname.toLowerCase().replace(/\.$/, "");
  return literalAddress(host) ? null : host;
}
