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

/** A subscription that breaks is renewed this many times in a row at most (each after a short wait). */
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
  connect: () => SolveEventSource,
  tenantId: string,
  o: {
    signal: AbortSignal;
    deadline: number;
    onEvent: (e: FollowedEvent) => Promise<void>;
    /** Keeps the invocation alive for a call made after the response is over (the Worker's `waitUntil`). */
    keepAlive?: (p: Promise<unknown>) => void;
  },
): Promise<"done" | "left" | "timedOut"> {
  const id = crypto.randomUUID();
  let after = 0;
  // Breaks in a row (a stream that ended early, a subscribe that threw); an event resets the count.
  let breaks = 0;
  // Tell the object now, not at its next event.
  const release = (stub: SolveEventSource) => {
    const p = stub.unsubscribe([id]).catch(() => {});
    o.keepAlive?.(p);
  };
  for (;;) {
    if (o.signal.aborted) return "left";
    if (Date.now() >= o.deadline) return "timedOut";
    // A fresh stub each time: once a stub has thrown (the object restarted), its later calls fail too.
    const stub = connect();
    let sub: Awaited<ReturnType<SolveEventSource["subscribe"]>>;
    try {
      sub = await stub.subscribe(tenantId, id, after);
    } catch (err) {
      if (++breaks > MAX_RESUBSCRIBES) throw err;
      await new Promise((r) => setTimeout(r, RESUBSCRIBE_MS));
      continue;
    }
    if (!sub.ok) throw new Error(`solve events: ${sub.error}`);
    if ("ended" in sub.value) return "done";
    const reader = (sub.value.stream as ReadableStream<Uint8Array>).getReader();
    let timedOut = false;
    const stop = () => void reader.cancel().catch(() => {});
    o.signal.addEventListener("abort", stop, { once: true });
    // The client may have left while subscribe was in flight: a listener added now would never fire.
    if (o.signal.aborted) stop();
    const timer = setTimeout(
      () => {
        timedOut = true;
        stop();
      },
      Math.max(0, o.deadline - Date.now()),
    );
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
          breaks = 0;
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
      release(stub);
      return "left";
    }
    if (timedOut || Date.now() >= o.deadline || ++breaks > MAX_RESUBSCRIBES) {
      release(stub);
      return "timedOut";
    }
    await new Promise((r) => setTimeout(r, RESUBSCRIBE_MS));
  }
}
