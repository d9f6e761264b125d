/**
 * The open event streams of one solve, held by its Durable Object: each is a byte stream the object writes
 * server-sent events into as they are appended, so a stream costs nothing between events (no polling). The
 * Worker says when a subscriber's client has left (`unsubscribe`, batched), because a reader's cancel reaches
 * this end of a Workers RPC stream only when the next event is written to it (checked in workerd); that write
 * failing also drops a subscriber whose Worker died without a word. In memory only: when the object is
 * evicted or restarted its RPC streams break, and the clients reconnect with Last-Event-ID.
 */
import type { SolveEvent } from "./eventLog";

const encoder = new TextEncoder();

/** One event in the server-sent events wire format (the data is one line of JSON, so one `data:` field). */
export function sseBlock(e: SolveEvent): string {
  return `id: ${e.seq}\nevent: ${e.type}\ndata: ${e.data}\n\n`;
}

export class Subscribers {
  private readonly open = new Map<string, ReadableByteStreamController>();

  get size(): number {
    return this.open.size;
  }

  /**
   * A stream that starts with `backlog` (the events a reconnecting client missed) and then carries every
   * event `publish`ed. It ends after a `done` event. The caller must read the backlog and register in one
   * synchronous turn (the object's storage is synchronous), so no event falls between them.
   */
  subscribe(id: string, backlog: SolveEvent[]): ReadableStream<Uint8Array> {
    const open = this.open;
    let mine: ReadableByteStreamController | undefined;
    // A byte stream: Workers RPC carries only byte-oriented streams.
    return new ReadableStream({
      type: "bytes",
      start(controller) {
        for (const e of backlog) controller.enqueue(encoder.encode(sseBlock(e)));
        if (backlog.at(-1)?.type === "done") return controller.close();
        mine = controller;
        open.set(id, controller);
      },
      cancel() {
        if (mine && open.get(id) === mine) open.delete(id);
      },
    });
  }

  /** The subscriber left: end its stream and forget it. */
  unsubscribe(id: string): void {
    const controller = this.open.get(id);
    if (!controller) return;
    this.open.delete(id);
    try {
      controller.close();
    } catch {
      // already closed or errored
    }
  }

  /** Push an event to every subscriber; `done` ends their streams. */
  publish(e: SolveEvent): void {
    if (this.open.size === 0) return;
    const bytes = encoder.encode(sseBlock(e));
    for (const [id, controller] of [...this.open]) {
      try {
        // Each subscriber gets its own copy: an enqueued buffer is transferred to its stream.
        controller.enqueue(bytes.slice());
        if (e.type === "done") {
          controller.close();
          this.open.delete(id);
        }
      } catch {
        // Already closed or errored (its reader went away): nothing more to send it.
        this.open.delete(id);
      }
    }
  }
}
