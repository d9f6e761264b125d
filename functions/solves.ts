/** `/v1/solves`: start, read, follow and cancel solves. Thin: validate, then delegate to `src/api`. */
import { Hono } from "hono";
import { ApiError } from "../src/errors/apiError";
import { jsonBody } from "../src/api/http";
import type { AppEnv } from "../src/auth/env";
import { CreateSolveSchema, FeedbackSchema, type DryRunView, invalidRequest } from "../src/api/schemas";
import { policyView, probingView } from "../src/solve/view";
import { forecastProbe } from "../src/policy/probeStep";
import { recordFeedback } from "../src/db/feedback";
import { answersEquivalent } from "../src/engine/answers";
import { fingerprint, idempotencyKeyOf, startOnce } from "../src/api/idempotency";
import { prepareSolve, sessionOf, unwrap } from "../src/api/startSolve";
import { answerWhenDone } from "../src/api/syncAnswer";
import { checkDestination } from "../src/webhooks/destination";
import { relayEvents } from "../src/api/eventStream";
import { STREAM_LEASE_RENEW_MS } from "../src/quota/KeyQuota";
import { quotaRefused } from "../src/quota/refusal";
import { keyQuota } from "../src/quota/stub";
import { releaseStream } from "../src/api/streamRelease";

export const solves = new Hono<AppEnv>();

solves.post("/", async (c) => {
  const key = idempotencyKeyOf(c.req.header("idempotency-key"));
  const body = await jsonBody(c);
  const parsed = CreateSolveSchema.safeParse(body);
  if (!parsed.success) throw invalidRequest(parsed.error);
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
 * Server-sent events: a `step` event per executor step and a final `done`, pushed by the solve's Durable
 * Object as they happen; a client that reconnects with Last-Event-ID gets what it missed. Each open stream
 * holds a lease in its key's KeyQuota object, so a key holds at most EVENT_STREAMS_PER_KEY at once.
 */
solves.get("/:id/events", async (c) => {
  const principal = c.get("principal");
  const solveId = c.req.param("id");
  const stub = sessionOf(c.env, solveId);
  const lastId = Number(c.req.header("last-event-id") ?? "0");
  const after = Number.isInteger(lastId) && lastId > 0 ? lastId : 0;
  const quota = keyQuota(c.env, principal.keyId);
  // The lease id names the object's subscriber too.
  const lease = crypto.randomUUID();
  const taken = await quota.openStream(lease, streamCap(c.env));
  if (!taken.ok) throw quotaRefused(taken);
  const release = (subscribed: boolean) =>
    releaseStream(c.env, c.executionCtx, { keyId: principal.keyId, lease, ...(subscribed ? { solveId } : {}) });
  let sub;
  try {
    sub = await stub.subscribe(principal.tenantId, lease, after);
  } catch (err) {
    release(false);
    throw err;
  }
  if (!sub.ok || "ended" in sub.value) {
    release(false);
    // A client reconnecting after the end has nothing more to get: 204 tells EventSource to stop retrying.
    if (sub.ok) return c.body(null, 204);
    throw new ApiError(404, "not_found", sub.error);
  }
  let probes = 0;
  const body = relayEvents(sub.value.stream, {
    probeMs: PROBE_MS,
    heartbeatEvery: HEARTBEAT_MS / PROBE_MS,
    maxMs: MAX_STREAM_MS,
    signal: c.req.raw.signal,
    onProbe: () => {
      if (++probes % (STREAM_LEASE_RENEW_MS / PROBE_MS) === 0) c.executionCtx.waitUntil(quota.renewStream(lease));
    },
    onClose: (sourceEnded) => release(!sourceEnded),
  });
  return c.body(body, 200, {
    "content-type": "text/event-stream",
    "cache-control": "no-cache",
    connection: "keep-alive",
  });
});

/**
 * The runtime notices a client that left only when a write to it fails, so an idle stream writes a newline
 * (ignored by SSE parsers between events) this often: a gone client is noticed within a second, not at the
 * solve's next step.
 */
const PROBE_MS = 1_000;
/** A `: ping` comment this often keeps proxies and clients from timing out an idle stream. */
const HEARTBEAT_MS = 15_000;
/** A stream ends after this long anyway; EventSource reconnects with Last-Event-ID. */
const MAX_STREAM_MS = 15 * 60_000;
/** Open event streams per key when EVENT_STREAMS_PER_KEY is unset or not a positive integer. */
export const DEFAULT_STREAMS_PER_KEY = 50;

function streamCap(env: Env): number {
  const n = Number(env.EVENT_STREAMS_PER_KEY);
  return Number.isInteger(n) && n > 0 ? n : DEFAULT_STREAMS_PER_KEY;
}

/**
 * An outcome for a finished solve (right or wrong, or the right answer to grade it against), the label a
 * policy re-tune learns from. Every report is logged; the latest counts.
 */
solves.post("/:id/feedback", async (c) => {
  const body = await jsonBody(c);
  const parsed = FeedbackSchema.safeParse(body);
  if (!parsed.success) throw invalidRequest(parsed.error);
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
