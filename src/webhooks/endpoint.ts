/**
 * One identity per webhook endpoint, so that a destination disabled after it answered 410 Gone stays
 * disabled however its URL is spelled: scheme and host in lower case (the URL parser's), a trailing dot
 * dropped, the default port dropped, the path's percent-encoding normalised (RFC 3986 §6.2.2: escapes in
 * upper case, octets that need no escape decoded), and the query and fragment left out.
 */

/** Characters a path segment may carry unescaped (RFC 3986 `pchar`, less `%`). */
const PCHAR = /^[A-Za-z0-9\-._~!$&'()*+,;=:@]$/;

function normalisePath(path: string): string {
  // Escaped octets: a character allowed in a path is decoded, anything else keeps its escape in upper case.
  // `/` stays escaped: %2F inside a segment is not a separator.
  return (path || "/").replace(/%([0-9A-Fa-f]{2})/g, (_m, hex: string) => {
    const ch = String.fromCharCode(parseInt(hex, 16));
    return PCHAR.test(ch) ? ch : `%${hex.toUpperCase()}`;
  });
}

/** The endpoint a webhook URL names, as the disable list keys it; the URL itself when it does not parse. */
export function endpointIdentity(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return raw;
  }
  const host = url.hostname.replace(/\.+$/, "");
  // The URL parser drops the scheme's default port and lower-cases scheme and host.
  const port = url.port ? `:${url.port}` : "";
  return `${url.protocol}//${host}${port}${normalisePath(url.pathname)}`;
}
