/**
 * The response body of `GET /v1/solves/{id}/events`: the server-sent events a solve's Durable Object pushes
 * (see `src/durable/subscribers.ts`), relayed whole, with a `: ping` comment now and then so that proxies
 * and clients see a live connection while no step finishes, and a newline every `probeMs` between them.
 *
 * It ends when the object ends its stream (after `done`), when the object's stream breaks (evicted or
 * restarted: the client reconnects with Last-Event-ID), after `maxMs`, or the moment the client leaves: the
 * request's `signal` aborts (with the compatibility flag `enable_request_signal`, which this Worker does not
 * set: locally it made no difference), or the platform cancels the body. Measured in local workerd, a client
 * that closed an idle stream is noticed only when the next write to it fails: hence the probe writes.
 * `onClose` runs once whichever comes first, told whether the object's stream ended (else the caller tells
 * the object that its subscriber left).
 */

export interface RelayOptions {
  /** How often an idle stream writes (a newline, or every `heartbeatEvery`-th time a `: ping` comment). */
  probeMs: number;
  heartbeatEvery: number;
  maxMs: number;
  /** Every probe (the caller renews the stream's lease on some of them). */
  onProbe?: () => void;
  onClose: (sourceEnded: boolean) => void;
  /** The client's request: its abort (the client left) ends the relay at once. */
  signal?: AbortSignal;
}

const encoder = new TextEncoder();
const PING = encoder.encode(": ping\n\n");
const NEWLINE = encoder.encode("\n");

export function relayEvents(source: ReadableStream<Uint8Array>, o: RelayOptions): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  const decoder = new TextDecoder();
  // Both set in start(), before anything can call finish().
  let heartbeat: ReturnType<typeof setInterval>;
  let deadline: ReturnType<typeof setTimeout>;
  let closed = false;
  const finish = (sourceEnded: boolean) => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    clearTimeout(deadline);
    if (!sourceEnded) reader.cancel().catch(() => {});
    o.onClose(sourceEnded);
  };
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const end = (sourceEnded: boolean) => {
        try {
          controller.close();
        } catch {
          // already closed or cancelled
        }
        finish(sourceEnded);
      };
      let probes = 0;
      heartbeat = setInterval(() => {
        if (closed) return;
        // A write is how the runtime finds out that the client has gone (then it cancels this stream).
        controller.enqueue(++probes % o.heartbeatEvery === 0 ? PING : NEWLINE);
        o.onProbe?.();
      }, o.probeMs);
      deadline = setTimeout(() => end(false), o.maxMs);
      if (o.signal?.aborted) return end(false);
      o.signal?.addEventListener("abort", () => end(false), { once: true });
      void (async () => {
        // Only whole events go out, so a ping never lands inside one (RPC may split the object's chunks).
        let pending = "";
        let ended = true;
        try {
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            if (closed) {
              ended = false;
              break;
            }
            pending += decoder.decode(value, { stream: true });
            const cut = pending.lastIndexOf("\n\n");
            if (cut < 0) continue;
            controller.enqueue(encoder.encode(pending.slice(0, cut + 2)));
            pending = pending.slice(cut + 2);
          }
        } catch {
          // The object's stream broke, or this relay was cancelled: end the response either way.
        }
        end(ended);
      })();
    },
    cancel() {
      finish(false);
    },
  });
}
