/**
 * The response body of `GET /v1/solves/{id}/events`: the server-sent events a solve's Durable Object pushes
 * (see `src/durable/subscribers.ts`), relayed whole, with a `: ping` comment every `heartbeatMs` so that
 * proxies and clients see a live connection while no step finishes. Nothing runs between events and pings.
 *
 * It ends when the object ends its stream (after `done`), when the object's stream breaks (evicted or
 * restarted: the client reconnects with Last-Event-ID), after `maxMs`, or the moment the client leaves
 * (the platform cancels the response body, which cancels the object's stream, which drops its subscriber).
 * `onClose` runs once whichever comes first, told whether the object's stream ended (else the caller tells
 * the object that its subscriber left).
 */

export interface RelayOptions {
  heartbeatMs: number;
  maxMs: number;
  /** Every heartbeat (the caller renews the stream's lease on some of them). */
  onBeat?: () => void;
  onClose: (sourceEnded: boolean) => void;
}

const encoder = new TextEncoder();
const PING = encoder.encode(": ping\n\n");

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
      heartbeat = setInterval(() => {
        if (closed) return;
        controller.enqueue(PING);
        o.onBeat?.();
      }, o.heartbeatMs);
      deadline = setTimeout(() => end(false), o.maxMs);
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
