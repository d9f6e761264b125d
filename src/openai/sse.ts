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

/**
 * How long a stream waits before asking its solve again: 100 ms after news, growing by half each quiet poll to
 * 1 s, so that a stream on a slow solve costs about one Durable Object request a second instead of ten.
 */
export class PollInterval {
  static readonly MIN_MS = 100;
  static readonly MAX_MS = 1_000;
  private ms = PollInterval.MIN_MS;

  /** The wait before the next poll; `news`: this poll found something. */
  next(news: boolean): number {
    this.ms = news ? PollInterval.MIN_MS : Math.min(PollInterval.MAX_MS, Math.round(this.ms * 1.5));
    return this.ms;
  }
}
