/**
 * The Worker's entry: HTTP routes (Hono). Thin: validate, decide, delegate to the SolveSession Durable
 * Object. Errors are thrown as `ApiError` and rendered by one handler (`src/api/errors.ts`).
 */
import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { streamSSE } from "hono/streaming";
import { apiBudgetField, toEngineBudget } from "../src/api/budget";
import { ApiError, renderError } from "../src/api/errors";
import { CreateSolveSchema, describeIssue, MAX_BODY_BYTES, type SolveView } from "../src/api/schemas";
import { SolveSession, type RpcResult } from "../src/durable/SolveSession";
import { refuseBudget } from "../src/engine/executor";
import { providersFromEnv } from "../src/providers/fromEnv";

export { SolveSession };

type App = { Bindings: Env };

const app = new Hono<App>();

const SOLVE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The solve's object; a malformed id is a 404 like an unknown one. */
function session(env: Env, id: string) {
  if (!SOLVE_ID.test(id)) throw new ApiError(404, "not_found", `no solve with id "${id}"`);
  return env.SOLVE_SESSION.get(env.SOLVE_SESSION.idFromName(id));
}

function unwrap(r: RpcResult<SolveView>): SolveView {
  if (r.ok) return r.value;
  if (r.code === "not_found") throw new ApiError(404, "not_found", r.error);
  if (r.code === "conflict") throw new ApiError(409, "conflict", r.error);
  throw new ApiError(400, "invalid_request", r.field ? `${apiBudgetField(r.field)}: ${r.error}` : r.error);
}

/** A JSON body: the media type is compared case-insensitively and parameters are ignored. */
async function jsonBody(c: Context<App>): Promise<unknown> {
  const mediaType = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (mediaType !== "application/json") throw new ApiError(415, "unsupported_media_type", "Content-Type must be application/json");
  try {
    return await c.req.json();
  } catch {
    throw new ApiError(400, "invalid_json", "the request body is not valid JSON");
  }
}

app.get("/healthz", (c) => c.json({ ok: true }));

app.use(
  "/v1/*",
  bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => {
      throw new ApiError(413, "payload_too_large", `the request body is larger than ${MAX_BODY_BYTES} bytes`);
    },
  }),
);

app.post("/v1/solves", async (c) => {
  const parsed = CreateSolveSchema.safeParse(await jsonBody(c));
  if (!parsed.success) throw new ApiError(400, "invalid_request", describeIssue(parsed.error));
  const req = parsed.data;
  const budget = toEngineBudget(req.budget, Date.now());
  const wired = providersFromEnv(c.env.PROVIDERS, c.env as unknown as Record<string, unknown>);
  if (!wired.ok) throw new Error(`PROVIDERS: ${wired.error}`);
  // Refused here, before a Durable Object is made: a budget that cannot run this strategy at all.
  const refused = refuseBudget({ question: req.prompt }, req.strategy, budget, wired.wired.costs);
  if (refused) throw new ApiError(400, "invalid_request", `${apiBudgetField(refused.field)}: ${refused.message}`);
  const id = crypto.randomUUID();
  const seed = req.seed ?? crypto.getRandomValues(new Uint32Array(1))[0]!;
  const stub = session(c.env, id);
  const started = unwrap(await stub.start({ id, prompt: req.prompt, spec: req.strategy, budget, seed }));
  if (req.mode === "async") return c.json(started, 202);
  // Sync: wait for the answer while the Durable Object works through its alarms. The object wakes waiting
  // callers when it finishes; if it was evicted meanwhile the wait times out and is asked again.
  const until = Date.now() + (req.budget.deadlineMs ?? 60_000) + 5_000;
  for (;;) {
    const view = unwrap(await stub.waitForDone(Math.max(100, Math.min(10_000, until - Date.now()))));
    if (view.status === "done") return c.json(view);
    if (Date.now() > until) throw new ApiError(504, "timeout", `solve ${id} is still running; poll GET /v1/solves/${id}`);
  }
});

app.get("/v1/solves/:id", async (c) => c.json(unwrap(await session(c.env, c.req.param("id")).status())));

/**
 * Server-sent events: a `step` event per executor step and a final `done`; a client that reconnects with
 * Last-Event-ID gets what it missed.
 */
app.get("/v1/solves/:id/events", async (c) => {
  const stub = session(c.env, c.req.param("id"));
  const first = unwrap(await stub.status());
  const lastId = Number(c.req.header("last-event-id") ?? "0");
  let after = Number.isInteger(lastId) && lastId > 0 ? lastId : 0;
  // A client reconnecting after the end has nothing more to get: 204 tells EventSource to stop retrying.
  if (first.status === "done" && (await stub.eventsAfter(after)).length === 0) return c.body(null, 204);
  return streamSSE(c, async (stream) => {
    const until = Date.now() + 15 * 60_000;
    while (Date.now() < until && !stream.aborted) {
      const events = await stub.eventsAfter(after);
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
  const stub = session(c.env, c.req.param("id"));
  const asked = unwrap(await stub.cancel());
  if (asked.status === "done") return c.json(asked);
  // The object stops at its next alarm (after a step in flight); wait briefly to answer with the outcome.
  return c.json(unwrap(await stub.waitForDone(10_000)));
});

app.notFound((c) => renderError(new ApiError(404, "not_found", `no route for ${c.req.method} ${c.req.path}`), c));
app.onError(renderError);

export default app;
