/**
 * One delivery attempt: check where the URL's host resolves, sign, POST without following redirects, and
 * classify the answer. Nothing is sent to a destination the guard refuses.
 */
import { checkResolved, checkWebhookUrl, hostToResolve, type GuardOptions } from "./ssrf";
import type { Resolver } from "./resolve";
import { parseRetryAfter, type AttemptOutcome } from "./schedule";
import { signatureHeader } from "./signature";

export interface Message {
  id: string;
  url: string;
  body: string;
}

const TIMEOUT_MS = 10_000;

export async function attemptDelivery(
  msg: Message,
  secrets: readonly string[],
  deps: { resolve: Resolver; guard: GuardOptions; now: () => number; fetch?: typeof fetch },
): Promise<AttemptOutcome> {
  // The URL again, as at registration: a guard made stricter since, or a URL stored before it, is judged now.
  const named = checkWebhookUrl(msg.url, deps.guard);
  if (!named.ok) return { kind: "refused", reason: `the URL ${named.reason}` };
  const url = new URL(msg.url);
  const host = hostToResolve(url);
  if (host && !deps.guard.allowLocal) {
    let addresses: string[];
    try {
      addresses = await deps.resolve(host);
    } catch (err) {
      return { kind: "failed", error: `DNS lookup failed: ${err instanceof Error ? err.message : String(err)}` };
    }
    const verdict = checkResolved(host, addresses, deps.guard);
    if (!verdict.ok) return { kind: "refused", reason: verdict.reason };
  }
  const timestamp = Math.floor(deps.now() / 1000);
  let res: Response;
  try {
    res = await (deps.fetch ?? fetch)(msg.url, {
      method: "POST",
      redirect: "manual",
      signal: AbortSignal.timeout(TIMEOUT_MS),
      headers: {
        "content-type": "application/json",
        "user-agent": "ttc-edge-webhooks/1",
        "webhook-id": msg.id,
        "webhook-timestamp": String(timestamp),
        "webhook-signature": await signatureHeader(secrets, msg.id, timestamp, msg.body),
      },
      body: msg.body,
    });
  } catch (err) {
    return {
      kind: "failed",
      error:
        err instanceof Error && err.name === "TimeoutError"
          ? `no answer within ${TIMEOUT_MS / 1000} s`
          : `request failed: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  // The body is not needed; release the connection.
  await res.body?.cancel();
  if (res.status >= 200 && res.status < 300) return { kind: "delivered", status: res.status };
  if (res.status === 410) return { kind: "gone", status: 410 };
  if (res.status >= 300 && res.status < 400)
    return { kind: "failed", status: res.status, error: `answered ${res.status} (redirects are not followed)` };
  const retryAfterMs =
    res.status === 429 || res.status >= 500 ? parseRetryAfter(res.headers.get("retry-after"), deps.now()) : undefined;
  return {
    kind: "failed",
    status: res.status,
    error: `answered ${res.status}`,
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  };
}
