/**
 * Following a solve's pushed events (src/api/followSolve.ts) against a stand-in for its Durable Object: event
 * blocks parsed as the object writes them; a client that leaves, even while subscribing, ends it at once and
 * tells the object; a deadline does the same; a broken stream is followed again after the last event seen,
 * through a fresh stub, with nothing repeated.
 */
import { describe, expect, it } from "vitest";
import { followSolve, parseEventBlock, type FollowedEvent, type SolveEventSource } from "../src/api/followSolve";

const block = (seq: number, type: string) => `id: ${seq}\nevent: ${type}\ndata: {"n":${seq}}\n\n`;

/** A stand-in object: each subscribe gets the events after `after`, then (unless `hang`) ends or breaks. */
function source(events: string[], o: { breakAfter?: number; hang?: boolean; subscribeMs?: number } = {}) {
  const calls = { subscribe: [] as number[], unsubscribe: 0, stubs: 0 };
  const connect = (): SolveEventSource => {
    calls.stubs++;
    return {
      async subscribe(_tenant, _id, after = 0) {
        calls.subscribe.push(after);
        if (o.subscribeMs) await new Promise((r) => setTimeout(r, o.subscribeMs));
        const rest = events.map((t, i) => ({ seq: i + 1, t })).filter((e) => e.seq > after);
        const first = calls.subscribe.length === 1;
        const send = first && o.breakAfter !== undefined ? rest.slice(0, o.breakAfter) : rest;
        const stream = new ReadableStream<Uint8Array>({
          start(c) {
            for (const e of send) c.enqueue(new TextEncoder().encode(block(e.seq, e.t)));
            if (!o.hang) c.close();
          },
        });
        return { ok: true as const, value: { stream } };
      },
      async unsubscribe() {
        calls.unsubscribe++;
      },
    };
  };
  return { connect, calls };
}

describe("parseEventBlock", () => {
  it("reads the id, type and data the object writes, and skips a block without an id", () => {
    expect(parseEventBlock('id: 7\nevent: step\ndata: {"step":3}')).toEqual({
      seq: 7,
      type: "step",
      data: '{"step":3}',
    });
    expect(parseEventBlock(": ping")).toBeNull();
    expect(parseEventBlock("event: step\ndata: {}")).toBeNull();
  });
});

describe("followSolve", () => {
  it("after a broken stream, follows again from the last event seen through a fresh stub, nothing repeated", async () => {
    const s = source(["step", "step", "step", "done"], { breakAfter: 2 });
    const seen: FollowedEvent[] = [];
    const ended = await followSolve(s.connect, "t", {
      signal: new AbortController().signal,
      deadline: Date.now() + 5_000,
      onEvent: async (e) => void seen.push(e),
    });
    expect(ended).toBe("done");
    expect(seen.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(s.calls.subscribe).toEqual([0, 2]);
    expect(s.calls.stubs).toBe(2);
  });

  it("a client that leaves while it subscribes ends it at once, and the object is told", async () => {
    const s = source(["step"], { hang: true, subscribeMs: 50 });
    const left = new AbortController();
    setTimeout(() => left.abort(), 10);
    const began = Date.now();
    const ended = await followSolve(s.connect, "t", {
      signal: left.signal,
      deadline: Date.now() + 5_000,
      onEvent: async () => {},
    });
    expect(ended).toBe("left");
    expect(Date.now() - began).toBeLessThan(1_000);
    expect(s.calls.unsubscribe).toBe(1);
  });

  it("ends at its deadline, promptly, and tells the object", async () => {
    const s = source(["step"], { hang: true });
    const began = Date.now();
    const ended = await followSolve(s.connect, "t", {
      signal: new AbortController().signal,
      deadline: Date.now() + 200,
      onEvent: async () => {},
    });
    expect(ended).toBe("timedOut");
    expect(Date.now() - began).toBeLessThan(400);
    expect(s.calls.unsubscribe).toBe(1);
  });
});
