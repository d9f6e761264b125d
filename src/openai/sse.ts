/**
 * What the OpenAI-compatible event streams share: a heartbeat comment while nothing else is sent, so that
 * proxies and clients with idle timeouts keep the connection (SSE comments are ignored by every parser).
 */
import type { SSEStreamingApi } from "hono/streaming";

export const HEARTBEAT_MS = 15_000;

/** The interval from the environment (tests shorten it), else 15 s. */
export function heartbeatMs(env: { SSE_HEARTBEAT_MS?: string | undefined }): number {
  const ms = Number(env.SSE_HEARTBEAT_MS);
  return Number.isFinite(ms) && ms > 0 ? ms : HEARTBEAT_MS;
}

/** Send `: heartbeat` every `ms` until the returned function is called or the stream ends. */
export function heartbeat(stream: SSEStreamingApi, ms: number): () => void {
  const timer = setInterval(() => {
    if (stream.aborted || stream.closed) return clearInterval(timer);
    stream.write(": heartbeat\n\n").catch(() => clearInterval(timer));
  }, ms);
  return () => clearInterval(timer);
}
