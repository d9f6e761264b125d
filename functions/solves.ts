/** `/v1/solves`: start, read, follow and cancel solves. Thin: validate, then delegate to `src/api`. */
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { ApiError } from "../src/errors/apiError";
import { jsonBody } from "../src/api/http";
import type { AppEnv } from "../src/auth/env";
import { CreateSolveSchema, describeIssue, FeedbackSchema, type DryRunView } from "../src/api/schemas";
import { policyView, probingView } from "../src/solve/view";
import { forecastProbe } from "../src/policy/probeStep";
import { recordFeedback } from "../src/db/feedback";
import { answersEquivalent } from "../src/engine/answers";
import { fingerprint, idempotencyKeyOf, startOnce } from "../src/api/idempotency";
import { prepareSolve, sessionOf, unwrap } from "../src/api/startSolve";
import { answerWhenDone } from "../src/api/syncAnswer";
import { checkDestination } from "../src/webhooks/destination";

export const solves = new Hono<AppEnv>();

solves.post("/", async (c) => {
  const key = idempotencyKeyOf(c.req.header("idempotency-key"));
  const body = await jsonBody(c);
  const parsed = CreateSolveSchema.safeParse(body);
  if (!parsed.success) throw new ApiError(400, "invalid_request", describeIssue(parsed.error));
  const req = parsed.data;
  const principal = c.get("principal");
  if (req.dry_run) {
    if (req.strategy.strategy !== "auto")
      throw new ApiError(
        400,
        "invalid_request",
        `dry_run: only an auto solve has a decision to show; this request names ${req.strategy.strategy}`,
      );
    // The same checks as a real start, and the policy's own choice (no exploration draw); nothing is stored.
    // A policy that probes first cannot choose without the probe: what would run first, and a forecast.
    const input = await prepareSolve(c.env, principal, req, Date.now(), false);
    const view: DryRunView = input.probe
      ? { dryRun: true, policy: probingView(input.probe), forecast: forecastProbe(input.probe, req.prompt) }
      : { dryRun: true, policy: policyView(input.policy, undefined)! };
    return c.json(view);
  }
  if (req.webhook) await checkDestination(c.env, principal.tenantId, req.webhook.url);
  const idem = key === undefined ? undefined : { key, scope: "solves", fingerprint: await fingerprint(body) };
  const started = await startOnce(c.env, principal, idem, () => prepareSolve(c.env, principal, req));
  if (req.mode === "async") return c.json(started, 202);
  return answerWhenDone(c, started.id, req.budget.deadlineMs, async (view) => view);
});

solves.get("/:id", async (c) =>
  c.json(unwrap(await sessionOf(c.env, c.req.param("id")).status(c.get("principal").tenantId))),
);

/**
 * Server-sent events: a `step` event per executor step and a final `done`; a client that reconnects with
 * Last-Event-ID gets what it missed.
 */
solves.get("/:id/events", async (c) => {
  const stub = sessionOf(c.env, c.req.param("id"));
  const first = unwrap(await stub.status(c.get("principal").tenantId));
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

/**
 * An outcome for a finished solve (right or wrong, or the right answer to grade it against), the label a
 * policy re-tune learns from. Every report is logged; the latest counts.
 */
solves.post("/:id/feedback", async (c) => {
  const body = await jsonBody(c);
  const parsed = FeedbackSchema.safeParse(body);
  if (!parsed.success) throw new ApiError(400, "invalid_request", describeIssue(parsed.error));
  const principal = c.get("principal");
  const id = c.req.param("id");
  const view = unwrap(await sessionOf(c.env, id).status(principal.tenantId));
  if (view.status !== "done")
    throw new ApiError(409, "conflict", `solve ${id} is still running; report its outcome when it has ended`);
  const { answer } = parsed.data;
  const correct =
    parsed.data.correct ?? (view.answer !== null && answer !== undefined && answersEquivalent(view.answer, answer));
  const recordedAt = Date.now();
  await recordFeedback(c.env.DB, {
    solveId: id,
    tenantId: principal.tenantId,
    correct,
    answer: answer ?? null,
    createdAt: recordedAt,
  });
  return c.json({ solveId: id, correct, answer: answer ?? null, recordedAt }, 201);
});

solves.post("/:id/cancel", async (c) => {
  const stub = sessionOf(c.env, c.req.param("id"));
  const asked = unwrap(await stub.cancel(c.get("principal").tenantId));
  if (asked.status === "done") return c.json(asked);
  // The object stops at its next alarm (after a step in flight); wait briefly to answer with the outcome.
  return c.json(unwrap(await stub.waitForDone(10_000)));
});
