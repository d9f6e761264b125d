/**
 * A solve's events as they happen, for the Worker's own streams (the OpenAI-compatible chat and Responses
 * streams): the solve's Durable Object pushes them over one subscription (src/durable/subscribers.ts), so a
 * stream costs nothing while the solve is quiet, instead of asking the object again every 100 ms–1 s. When the
 * object's stream breaks (evicted or restarted) it subscribes again after the last event it saw.
 *
 * It ends after the `done` event, when `signal` aborts (the client left: the object is told at once), or at
 * `deadline` (then `timedOut`).
 */

/** What is followed: a solve's Durable Object (its RPC stub), as far as this needs it. */
export interface SolveEventSource {
  subscribe(
    tenantId: string,
    id: string,
    after?: number,
  ): Promise<{ ok: true; value: { stream: unknown } | { ended: true } } | { ok: false; error: string }>;
  unsubscribe(ids: string[]): Promise<void>;
}

export interface FollowedEvent {
  seq: number;
  type: string;
  data: string;
}

/** A subscription that ends without `done` is renewed this many times at most (each after a short wait). */
const MAX_RESUBSCRIBES = 20;
const RESUBSCRIBE_MS = 200;

/** One server-sent event block (`id:`, `event:`, one `data:` line) as the object writes it. */
export function parseEventBlock(block: string): FollowedEvent | null {
  let seq = NaN;
  let type = "message";
  let data = "";
  for (const line of block.split("\n")) {
    if (line.startsWith("id: ")) seq = Number(line.slice(4));
    else if (line.startsWith("event: ")) type = line.slice(7);
    else if (line.startsWith("data: ")) data = line.slice(6);
  }
  return Number.isFinite(seq) ? { seq, type, data } : null;
}

export async function followSolve(
  stub: SolveEventSource,
  tenantId: string,
  o: { signal: AbortSignal; deadline: number; onEvent: (e: FollowedEvent) => Promise<void> },
): Promise<"done" | "left" | "timedOut"> {
  const id = crypto.randomUUID();
  let after = 0;
  for (let attempt = 0; attempt <= MAX_RESUBSCRIBES; attempt++) {
    if (o.signal.aborted) return "left";
    if (Date.now() > o.deadline) return "timedOut";
    const sub = await stub.subscribe(tenantId, id, after);
    if (!sub.ok) throw new Error(`solve events: ${sub.error}`);
    if ("ended" in sub.value) return "done";
    const reader = (sub.value.stream as unknown as ReadableStream<Uint8Array>).getReader();
    const stop = () => reader.cancel().catch(() => {});
    o.signal.addEventListener("abort", stop, { once: true });
    const timer = setTimeout(stop, Math.max(0, o.deadline - Date.now()));
    const decoder = new TextDecoder();
    let pending = "";
    try {
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true as const }));
        if (done) break;
        pending += decoder.decode(value, { stream: true });
        let cut: number;
        while ((cut = pending.indexOf("\n\n")) >= 0) {
          const e = parseEventBlock(pending.slice(0, cut));
          pending = pending.slice(cut + 2);
          if (!e) continue;
          after = e.seq;
          await o.onEvent(e);
          if (e.type === "done") {
            stop();
            return "done";
          }
        }
      }
    } finally {
      clearTimeout(timer);
      o.signal.removeEventListener("abort", stop);
    }
    if (o.signal.aborted) {
      // Tell the object now, not at its next event.
      await stub.unsubscribe([id]).catch(() => {});
      return "left";
    }
    if (Date.now() > o.deadline) {
      await stub.unsubscribe([id]).catch(() => {});
      return "timedOut";
    }
    await new Promise((r) => setTimeout(r, RESUBSCRIBE_MS));
  }
  return "timedOut";
}
