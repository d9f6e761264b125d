/**
 * The Worker's entry: HTTP routes (Hono). Thin: validate, decide, delegate to the SolveSession Durable Object.
 */
import { Hono, type Context } from "hono";
import { streamSSE } from "hono/streaming";
import { CreateSolveSchema, describeIssue } from "../src/api/schemas";
import { SolveSession, type RpcResult, type SolveEnv, type SolveView } from "../src/durable/SolveSession";

export { SolveSession };

type Env = { Bindings: SolveEnv };

const app = new Hono<Env>();

type ErrorStatus = 400 | 404 | 409 | 413 | 415 | 422 | 500 | 504;

function apiError(c: Context<Env>, status: ErrorStatus, type: string, message: string) {
  return c.json({ error: { type, message } }, status);
}

const SOLVE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function session(env: SolveEnv, id: string) {
  return env.SOLVE_SESSION.get(env.SOLVE_SESSION.idFromName(id));
}

function fromRpc(c: Context<Env>, r: RpcResult<SolveView>, okStatus: 200 | 202 = 200) {
  if (r.ok) return c.json(r.value, okStatus);
  const status = r.code === "not_found" ? 404 : r.code === "conflict" ? 409 : 422;
  return apiError(c, status, r.code, r.error);
}

app.get("/healthz", (c) => c.json({ ok: true }));

app.post("/v1/solves", async (c) => {
  if (!(c.req.header("content-type") ?? "").includes("application/json")) {
    return apiError(c, 415, "invalid_request", "Content-Type must be application/json");
  }
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    return apiError(c, 400, "invalid_json", "the request body is not valid JSON");
  }
  const parsed = CreateSolveSchema.safeParse(body);
  if (!parsed.success) return apiError(c, 400, "invalid_request", describeIssue(parsed.error));
  const req = parsed.data;
  const id = crypto.randomUUID();
  const seed = req.seed ?? crypto.getRandomValues(new Uint32Array(1))[0]!;
  const budget = {
    ...(req.budget.generations !== undefined ? { generations: req.budget.generations } : {}),
    ...(req.budget.tokens !== undefined ? { tokens: req.budget.tokens } : {}),
    ...(req.budget.money !== undefined ? { money: req.budget.money } : {}),
    ...(req.budget.deadlineMs !== undefined ? { deadline: Date.now() + req.budget.deadlineMs } : {}),
  };
  const stub = session(c.env, id);
  const started = await stub.start({ id, prompt: req.prompt, spec: req.strategy, budget, seed });
  if (!started.ok || req.mode === "async") return fromRpc(c, started, 202);
  // Sync: wait for the answer while the Durable Object works through its alarms. The object wakes waiting
  // callers when it finishes; if it was evicted meanwhile the wait times out and is asked again.
  const until = Date.now() + (req.budget.deadlineMs ?? 60_000) + 5_000;
  for (;;) {
    const r = await stub.waitForDone(Math.max(100, Math.min(10_000, until - Date.now())));
    if (!r.ok || r.value.status === "done") return fromRpc(c, r);
    if (Date.now() > until) return apiError(c, 504, "timeout", `solve ${id} is still running; poll GET /v1/solves/${id}`);
  }
});

app.get("/v1/solves/:id", async (c) => {
  const id = c.req.param("id");
  if (!SOLVE_ID.test(id)) return apiError(c, 404, "not_found", `no solve with id "${id}"`);
  return fromRpc(c, await session(c.env, id).status());
});

/**
 * Server-sent events: a `step` event per executor step and a final `done`; a client that reconnects with
 * Last-Event-ID gets what it missed.
 */
app.get("/v1/solves/:id/events", async (c) => {
  const id = c.req.param("id");
  if (!SOLVE_ID.test(id)) return apiError(c, 404, "not_found", `no solve with id "${id}"`);
  const stub = session(c.env, id);
  const first = await stub.status();
  if (!first.ok) return fromRpc(c, first);
  const lastId = Number(c.req.header("last-event-id") ?? "0");
  let after = Number.isInteger(lastId) && lastId > 0 ? lastId : 0;
  // A client reconnecting after the end has nothing more to get: 204 tells EventSource to stop retrying.
  if (first.value.status === "done" && (await stub.events(after)).length === 0) return c.body(null, 204);
  return streamSSE(c, async (stream) => {
    const until = Date.now() + 15 * 60_000;
    while (Date.now() < until && !stream.aborted) {
      const events = await stub.events(after);
      for (const e of events) {
        await stream.writeSSE({ id: String(e.seq), event: e.type, data: e.data });
        after = e.seq;
        if (e.type === "done") return;
      }
      await stream.sleep(100);
    }
  });
});

app.post("/v1/solves/:id/cancel", async (c) => {
  const id = c.req.param("id");
  if (!SOLVE_ID.test(id)) return apiError(c, 404, "not_found", `no solve with id "${id}"`);
  const stub = session(c.env, id);
  const asked = await stub.cancel();
  if (!asked.ok || asked.value.status === "done") return fromRpc(c, asked);
  // The object stops at its next alarm (after a step in flight); wait briefly to answer with the outcome.
  return fromRpc(c, await stub.waitForDone(10_000));
});

app.notFound((c) => apiError(c, 404, "not_found", `no route for ${c.req.method} ${c.req.path}`));
app.onError((err, c) => apiError(c, 500, "internal", err instanceof Error ? err.message : "internal error"));

export default app;
