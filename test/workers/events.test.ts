import { createExecutionContext, env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { authedFetch, newTenantKey, testKey, type TestKey } from "./auth";
import { describe, expect, it } from "vitest";
import { app } from "../../functions/app";
import { relayEvents } from "../../src/api/eventStream";
import type { SolveView } from "../../src/api/schemas";
import { StrategySpecSchema } from "../../src/engine/strategies";
import { recordSolve } from "../../src/db/recordSolve";
import { CallLog } from "../../src/durable/callLog";
import { SolveStorage } from "../../src/durable/storage";
import { driveToEnd } from "./drive";

const PROBLEM =
  "Start with 35. Multiply by 12. Subtract 99. Take the remainder when divided by 7. Add 680. What is the final number?";

async function start(body: unknown): Promise<SolveView> {
  const res = await authedFetch("https://ttc.test/v1/solves", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(202);
  return (await res.json()) as SolveView;
}

async function drive(id: string): Promise<void> {
  await driveToEnd(id);
}

function parseSse(text: string): { id: string; event: string; data: string }[] {
  return (
    text
      .split("\n\n")
      // Blocks with no field but comments and newlines (pings, probes) carry no event.
      .filter((block) => block.split("\n").some((l) => l !== "" && !l.startsWith(":")))
      .map((block) => {
        const field = (name: string) =>
          block
            .split("\n")
            .find((l) => l.startsWith(`${name}:`))
            ?.slice(name.length + 1)
            .trim() ?? "";
        return { id: field("id"), event: field("event"), data: field("data") };
      })
  );
}

describe("events and records", () => {
  it("streams step events and a final done as server-sent events, and replays after Last-Event-ID", async () => {
    const solve = await start({ prompt: PROBLEM, strategy: { strategy: "beam-search", n: 4, width: 2 }, seed: 3 });
    await drive(solve.id);
    const res = await authedFetch(`https://ttc.test/v1/solves/${solve.id}/events`);
    expect(res.headers.get("content-type")).toMatch(/text\/event-stream/);
    const events = parseSse(await res.text());
    expect(events[0]?.event).toBe("started");
    expect(events.at(-1)?.event).toBe("done");
    expect(events.filter((e) => e.event === "step").length).toBeGreaterThan(1);
    const ids = events.map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    // Reconnect after the third event: only what came after it.
    const again = parseSse(
      await (
        await authedFetch(`https://ttc.test/v1/solves/${solve.id}/events`, {
          headers: { "last-event-id": String(ids[2]) },
        })
      ).text(),
    );
    expect(again.map((e) => e.id)).toEqual(events.slice(3).map((e) => e.id));
    const done = JSON.parse(events.at(-1)!.data) as { stopReason: string; steps: number };
    expect(done.stopReason).toBe("complete");
    // Reconnecting after the end: nothing more to send, and 204 tells EventSource to stop retrying.
    const after = await authedFetch(`https://ttc.test/v1/solves/${solve.id}/events`, {
      headers: { "last-event-id": events.at(-1)!.id },
    });
    expect(after.status).toBe(204);
  });

  it("writes every provider call to D1 in batches, adding up to the solve's spend", async () => {
    const solve = await start({ prompt: PROBLEM, strategy: { strategy: "beam-search", n: 8, width: 4 }, seed: 4 });
    await drive(solve.id);
    const view = (await (await authedFetch(`https://ttc.test/v1/solves/${solve.id}`)).json()) as SolveView;
    const calls = await env.DB.prepare(
      "SELECT purpose, prompt_tokens, completion_tokens, samples, status FROM provider_calls WHERE solve_id = ? ORDER BY step",
    )
      .bind(solve.id)
      .all<{ purpose: string; prompt_tokens: number; completion_tokens: number; samples: number; status: string }>();
    const rows = calls.results;
    // One call per provider per executor step.
    expect(rows.length).toBe(view.steps);
    expect(rows.every((r) => r.status === "ok")).toBe(true);
    expect(new Set(rows.map((r) => r.purpose))).toEqual(new Set(["generate:generator", "score:verifier"]));
    expect(rows.reduce((t, r) => t + r.prompt_tokens + r.completion_tokens, 0)).toBe(view.spend.tokens);
    expect(rows.reduce((t, r) => t + r.samples, 0)).toBe(view.spend.samples);
  });

  it("a D1 write retried after it succeeded adds no row twice", async () => {
    const solve = await start({ prompt: PROBLEM, strategy: { strategy: "best-of-n", n: 4 }, seed: 5 });
    const view = await driveToEnd(solve.id);
    const count = async () =>
      (await env.DB.prepare(
        "SELECT (SELECT COUNT(*) FROM provider_calls WHERE solve_id = ?1) + (SELECT COUNT(*) FROM solves WHERE id = ?1) AS n",
      )
        .bind(solve.id)
        .first<{ n: number }>())!.n;
    const before = await count();
    expect(before).toBe(view.steps + 1);
    const stub = env.SOLVE_SESSION.get(env.SOLVE_SESSION.idFromName(solve.id));
    await runInDurableObject(stub, async (_instance, state) => {
      const store = new SolveStorage(state.storage);
      const loaded = (await store.load())!;
      await recordSolve(env.DB, loaded.meta, loaded.exec, new CallLog(state.storage.sql).all(), Date.now());
    });
    expect(await count()).toBe(before);
    const money = await env.DB.prepare("SELECT SUM(cost) AS m FROM provider_calls WHERE solve_id = ?")
      .bind(solve.id)
      .first<{ m: number }>();
    expect(money!.m).toBeCloseTo(view.spend.money, 12);
  });

  it("a deadline already past stops before calling a provider", async () => {
    const id = crypto.randomUUID();
    const stub = env.SOLVE_SESSION.get(env.SOLVE_SESSION.idFromName(id));
    const started = await stub.start({
      id,
      prompt: PROBLEM,
      spec: StrategySpecSchema.parse({ strategy: "best-of-n", n: 8 }),
      budget: { deadline: Date.now() - 1 },
      seed: 1,
      tenantId: "ten_direct",
      keyId: "key_direct",
    });
    expect(started.ok).toBe(true);
    const view = await driveToEnd(id);
    expect(view.stopReason).toBe("deadline");
    expect(view.spend.samples).toBe(0);
    expect(view.answer).toBeNull();
  });

  it("events of an unknown solve are a 404", async () => {
    const res = await authedFetch("https://ttc.test/v1/solves/00000000-0000-4000-8000-000000000001/events");
    expect(res.status).toBe(404);
  });
});

/** A running solve whose alarm is held an hour ahead, so the test decides when its steps run. */
async function heldSolve(key: TestKey, seed: number): Promise<string> {
  const id = crypto.randomUUID();
  const stub = env.SOLVE_SESSION.get(env.SOLVE_SESSION.idFromName(id));
  // Inside the object only storage is awaited, so its own alarm cannot run before it is moved.
  await runInDurableObject(stub, async (instance, state) => {
    const started = await instance.start({
      id,
      prompt: PROBLEM,
      spec: StrategySpecSchema.parse({ strategy: "beam-search", n: 4, width: 2 }),
      budget: {},
      seed,
      tenantId: key.tenantId,
      keyId: key.keyId,
    });
    expect(started.ok).toBe(true);
    await state.storage.setAlarm(Date.now() + 3_600_000);
  });
  return id;
}

function session(id: string) {
  return env.SOLVE_SESSION.get(env.SOLVE_SESSION.idFromName(id));
}

/** Reads server-sent events as they arrive; `comments` counts comment lines (heartbeats). */
function sseReader(body: ReadableStream<Uint8Array>) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const state = { comments: 0, ended: false };
  return {
    state,
    reader,
    /** The next event (skipping comments), or undefined when the stream ends. */
    async next(): Promise<{ id: string; event: string; data: string } | undefined> {
      for (;;) {
        const cut = buffer.indexOf("\n\n");
        if (cut >= 0) {
          const block = buffer.slice(0, cut + 2);
          buffer = buffer.slice(cut + 2);
          const event = parseSse(block)[0];
          if (event) return event;
          state.comments++;
        }
        const { value, done } = await reader.read();
        if (done) {
          state.ended = true;
          return undefined;
        }
        buffer += decoder.decode(value, { stream: true });
      }
    },
  };
}

async function eventually(what: string, check: () => Promise<boolean>, ms = 2_000): Promise<number> {
  const began = Date.now();
  while (!(await check())) {
    if (Date.now() - began > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - began;
}

async function openStreams(keyId: string): Promise<number> {
  return env.KEY_QUOTA.get(env.KEY_QUOTA.idFromName(keyId)).openStreams();
}

const noSubscriber = (id: string) => async () => (await session(id).subscriberCount()) === 0;
const streamsOpen = (keyId: string, n: number) => async () => (await openStreams(keyId)) === n;

/** The app with other vars (the stream cap), as the Worker would run with them. */
async function withVars(vars: Partial<Env>, url: string, init: RequestInit): Promise<Response> {
  return app.fetch(new Request(url, init), { ...env, ...vars }, createExecutionContext());
}

describe("event streams are pushed by the solve's object", () => {
  it("delivers each step as the object appends it, with no backlog to poll", async () => {
    const key = await testKey();
    const id = await heldSolve(key, 11);
    const res = await authedFetch(`https://ttc.test/v1/solves/${id}/events`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/event-stream/);
    const sse = sseReader(res.body!);
    expect((await sse.next())?.event).toBe("started");
    // Subscribed before any step ran: whatever arrives now was pushed by the object.
    expect(await session(id).subscriberCount()).toBe(1);
    // Earlier tests' streams of this key are given back in a batch a moment after they end.
    await eventually("only this stream", streamsOpen(key.keyId, 1));
    expect(await runDurableObjectAlarm(session(id))).toBe(true);
    const received = [];
    for (let e = await sse.next(); e; e = await sse.next()) received.push(e);
    const log = (await session(id).eventsAfter(0)).slice(1);
    expect(log.filter((e) => e.type === "step").length).toBeGreaterThan(1);
    expect(received.map((e) => [Number(e.id), e.event, e.data])).toEqual(log.map((e) => [e.seq, e.type, e.data]));
    expect(received.at(-1)?.event).toBe("done");
    // The done event ended the stream, its subscription and its lease.
    expect(sse.state.ended).toBe(true);
    expect(await session(id).subscriberCount()).toBe(0);
    await eventually("lease released", streamsOpen(key.keyId, 0));
  });

  it("a stream that reconnects with Last-Event-ID gets exactly the events after it", async () => {
    const key = await testKey();
    const id = await heldSolve(key, 12);
    const first = sseReader((await authedFetch(`https://ttc.test/v1/solves/${id}/events`)).body!);
    expect((await first.next())?.event).toBe("started");
    await runDurableObjectAlarm(session(id));
    const all = [];
    for (let e = await first.next(); e; e = await first.next()) all.push(e);
    for (const at of [1, 2, all.length - 1]) {
      const again = await authedFetch(`https://ttc.test/v1/solves/${id}/events`, {
        headers: { "last-event-id": all[at - 1]!.id },
      });
      const got = [];
      const sse = sseReader(again.body!);
      for (let e = await sse.next(); e; e = await sse.next()) got.push(e.id);
      expect(got).toEqual(all.slice(at).map((e) => e.id));
    }
  });

  it("a client that leaves releases the object's subscriber and the key's stream at once", async () => {
    const key = await newTenantKey();
    const id = await heldSolve(key, 13);
    const res = await authedFetch(`https://ttc.test/v1/solves/${id}/events`, {
      headers: { authorization: `Bearer ${key.key}` },
    });
    const sse = sseReader(res.body!);
    expect((await sse.next())?.event).toBe("started");
    expect(await session(id).subscriberCount()).toBe(1);
    expect(await openStreams(key.keyId)).toBe(1);
    await sse.reader.cancel();
    await eventually("subscriber dropped", noSubscriber(id));
    await eventually("lease released", streamsOpen(key.keyId, 0));
    // The solve goes on without it, its steps pushed to nobody.
    expect(await runDurableObjectAlarm(session(id))).toBe(true);
    expect(await session(id).status()).toMatchObject({ ok: true, value: { status: "done" } });
  });

  it("a subscriber whose Worker vanished without unsubscribing is dropped at the object's next event", async () => {
    const key = await testKey();
    const id = await heldSolve(key, 15);
    const sub = await session(id).subscribe(key.tenantId, "gone", 0);
    if (!sub.ok || "ended" in sub.value) throw new Error("expected a stream");
    const reader = sub.value.stream.getReader();
    expect((await reader.read()).done).toBe(false);
    await reader.cancel();
    await runInDurableObject(session(id), (instance) =>
      (instance as unknown as { emit(type: string, data: unknown): void }).emit("step", {}),
    );
    await eventually("dropped on write", noSubscriber(id));
  });

  it("caps a key's open streams: 429 with Retry-After beyond it, room again when one closes", async () => {
    const key = await newTenantKey();
    const id = await heldSolve(key, 14);
    const url = `https://ttc.test/v1/solves/${id}/events`;
    const init = { headers: { authorization: `Bearer ${key.key}` } };
    const cap = { EVENT_STREAMS_PER_KEY: "2" };
    const a = sseReader((await withVars(cap, url, init)).body!);
    const b = sseReader((await withVars(cap, url, init)).body!);
    expect((await a.next())?.event).toBe("started");
    expect((await b.next())?.event).toBe("started");
    const refused = await withVars(cap, url, init);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    const body = (await refused.json()) as { error: { type: string; code: string; message: string } };
    // The one error shape: OpenAI's type, our code.
    expect(body.error.type).toBe("rate_limit_error");
    expect(body.error.code).toBe("rate_limited");
    expect(body.error.message).toMatch(/2 at once/);
    // Refused before the object was asked: still two subscribers.
    expect(await session(id).subscriberCount()).toBe(2);
    // Another key of the same tenant has its own count.
    const other = await newTenantKey({}, key.tenantId);
    const otherRes = await withVars(cap, url, { headers: { authorization: `Bearer ${other.key}` } });
    expect(otherRes.status).toBe(200);
    await otherRes.body!.cancel();
    await a.reader.cancel();
    await eventually("one left", streamsOpen(key.keyId, 1));
    const c = await withVars(cap, url, init);
    expect(c.status).toBe(200);
    await c.body!.cancel();
    await b.reader.cancel();
    await eventually("none left", streamsOpen(key.keyId, 0));
    await eventually("subscribers dropped", noSubscriber(id));
  });

  it("a stream whose Worker died without closing stops counting when its lease expires", async () => {
    const key = await newTenantKey();
    const quota = env.KEY_QUOTA.get(env.KEY_QUOTA.idFromName(key.keyId));
    expect(await quota.openStream("lost", 1)).toEqual({ ok: true });
    expect((await quota.openStream("next", 1)).ok).toBe(false);
    // As if the lease's Worker had died long ago: its expiry passes without a renewal.
    await runInDurableObject(quota, (instance) => {
      (instance as unknown as { streams: Map<string, number> }).streams.set("lost", Date.now() - 1);
    });
    expect(await quota.openStreams()).toBe(0);
    expect(await quota.openStream("next", 1)).toEqual({ ok: true });
    await quota.closeStreams(["next"]);
    expect(await quota.openStreams()).toBe(0);
  });

  it("the relay writes while no event comes (a newline, and a ping comment now and then) and passes events on whole", async () => {
    let push!: ReadableStreamDefaultController<Uint8Array>;
    const source = new ReadableStream<Uint8Array>({ start: (c) => void (push = c) });
    let closed = 0;
    let probes = 0;
    const relay = relayEvents(source, {
      probeMs: 30,
      heartbeatEvery: 2,
      maxMs: 60_000,
      onProbe: () => void probes++,
      onClose: () => void closed++,
    });
    const reader = relay.getReader();
    const text = async () => new TextDecoder().decode((await reader.read()).value);
    expect(await text()).toBe("\n");
    expect(await text()).toBe(": ping\n\n");
    // An event split across chunks goes out as one piece, never with a probe or ping inside it.
    const enc = new TextEncoder();
    push.enqueue(enc.encode("id: 1\nevent: st"));
    await new Promise((r) => setTimeout(r, 100));
    push.enqueue(enc.encode('ep\ndata: {"a":1}\n\nid: 2'));
    let got = "";
    while (!got.includes("data:")) got += await text();
    expect(got.replaceAll(": ping\n\n", "").replace(/^\n+/, "")).toBe('id: 1\nevent: step\ndata: {"a":1}\n\n');
    expect(probes).toBeGreaterThan(2);
    await reader.cancel();
    await reader.cancel();
    expect(closed).toBe(1);
    // The request's abort signal (where the runtime reports a client's disconnect) ends a relay too.
    const abort = new AbortController();
    let ended: boolean | undefined;
    const second = relayEvents(new ReadableStream<Uint8Array>(), {
      probeMs: 60_000,
      heartbeatEvery: 15,
      maxMs: 60_000,
      signal: abort.signal,
      onClose: (sourceEnded) => void (ended = sourceEnded),
    });
    abort.abort();
    expect((await second.getReader().read()).done).toBe(true);
    expect(ended).toBe(false);
  });
});
