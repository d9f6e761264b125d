/**
 * The answer to a synchronous request whose solve runs: the caller going away cancels the solve, found two
 * ways. Request.signal fires when the client disconnects (the `enable_request_signal` compatibility flag),
 * which a proxy in front of the Worker may not pass on (wrangler dev's does not); so a solve still running
 * after SYNC_KEEPALIVE_MS (2 s) is answered 200 at once with a body that sends a newline every quarter second until
 * the JSON follows (JSON parsers skip leading whitespace), and a body nobody reads any more is cancelled by
 * every proxy, which cancels the solve. An error after that point arrives as the body, in the error shape,
 * with the status already sent. SYNC_KEEPALIVE_MS "0" turns the keepalive off.
 */
import type { Context } from "hono";
import { ApiError, errorBody } from "../errors/apiError";
import type { AppEnv } from "../auth/env";
import type { SolveView } from "./schemas";
import { sessionOf, waitForSolve } from "./startSolve";

// A gone caller is noticed at the next write: every 250 ms keeps what its solve starts after it left small.
const KEEPALIVE_EVERY_MS = 250;

function keepaliveAfter(env: { SYNC_KEEPALIVE_MS?: string | undefined }): number {
  const ms = Number(env.SYNC_KEEPALIVE_MS ?? "2000");
  return Number.isFinite(ms) && ms >= 0 ? ms : 2000;
}

/** Wait for the solve, then answer with `render` (which may throw an ApiError), cancelling it if the caller leaves. */
export async function answerWhenDone(
  c: Context<AppEnv>,
  id: string,
  deadlineMs: number | undefined,
  render: (view: SolveView) => Promise<unknown>,
): Promise<Response> {
  const tenantId = c.get("principal").tenantId;
  let answered = false;
  const cancel = () => {
    if (!answered) c.executionCtx.waitUntil(sessionOf(c.env, id).cancel(tenantId));
  };
  const signal = c.req.raw.signal;
  if (signal.aborted) cancel();
  signal.addEventListener("abort", cancel);
  const waiting = waitForSolve(c.env, id, deadlineMs);
  const after = keepaliveAfter(c.env);
  const early =
    after > 0
      ? await Promise.race([waiting, new Promise<null>((r) => setTimeout(() => r(null), after))])
      : await waiting;
  if (early) {
    answered = true;
    signal.removeEventListener("abort", cancel);
    return c.json(await render(early));
  }
  const encoder = new TextEncoder();
  let timer: ReturnType<typeof setInterval> | null = null;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode("\n"));
      timer = setInterval(() => controller.enqueue(encoder.encode("\n")), KEEPALIVE_EVERY_MS);
      const finish = (text: string) => {
        answered = true;
        clearInterval(timer);
        signal.removeEventListener("abort", cancel);
        controller.enqueue(encoder.encode(text));
        controller.close();
      };
      waiting
        .then(render)
        .then(
          (value) => finish(JSON.stringify(value)),
          (err: unknown) => {
            if (err instanceof ApiError)
              return finish(JSON.stringify(errorBody(err.type, err.message, err.extra.param)));
            console.error(`synchronous answer for solve ${id} failed:`, err);
            finish(JSON.stringify(errorBody("internal", `internal error; solve ${id}`)));
          },
        )
        .catch(() => undefined);
    },
    cancel() {
      // Nobody reads the answer any more: the caller went away.
      clearInterval(timer);
      cancel();
    },
  });
  // Uncompressed: a compressing proxy would hold the newlines back, and a write that fails is how a gone
  // caller is seen.
  return c.body(body, 200, {
    "content-type": "application/json",
    "content-encoding": "identity",
    "cache-control": "no-transform",
  });
}
