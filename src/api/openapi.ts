/**
 * The OpenAPI 3.1 document, generated from the zod schemas that validate requests (zod's own JSON Schema
 * output, draft 2020-12, which is OpenAPI 3.1's dialect). `OPERATIONS` is the list of routes it documents; a
 * test checks it against the routes the app serves.
 */
import { z } from "zod";
import {
  ChatCompletionChunkSchema,
  ChatCompletionRequestSchema,
  ChatCompletionSchema,
  ModelListSchema,
  ModelSchema,
} from "../openai/schemas";
import { EFFORT_GENERATIONS, MODELS } from "../openai/models";
import { ResponseCreateSchema, ResponseObjectSchema, ResponseStreamEventSchema } from "../openai/responses";
import { DeliveryDetailSchema, DeliverySchema, EnableEndpointSchema, WebhookSecretSchema } from "../webhooks/schemas";
import {
  ActivePolicyViewSchema,
  PolicyVersionListSchema,
  RetuneViewSchema,
  RollbackSchema,
  RollbackViewSchema,
  UploadedPolicyViewSchema,
  UploadPolicySchema,
} from "./policySchemas";
import {
  CreatedKeySchema,
  CreateKeySchema,
  CreateTenantSchema,
  KeyListingSchema,
  TenantListingSchema,
  TenantSchema,
  TenantTrustSchema,
} from "./adminSchemas";
import {
  CreateSolveSchema,
  DryRunViewSchema,
  ErrorBodySchema,
  FeedbackSchema,
  FeedbackViewSchema,
  MAX_BODY_BYTES,
  SolveViewSchema,
  UsageViewSchema,
} from "./schemas";

type Schema = z.ZodType;

export interface Operation {
  method: "get" | "post";
  /** Hono's form, `:id`; the document uses `{id}`. */
  path: string;
  summary: string;
  description?: string;
  tag: string;
  /** `key or admin`: an API key (its tenant's resource) or the ADMIN_SECRET (any, chosen by `?tenant=`). */
  auth: "key" | "admin" | "key or admin" | "none";
  /** Query parameters, by name: what each means. */
  query?: Record<string, string>;
  request?: Schema;
  idempotent?: boolean;
  /** Status → body schema (JSON), or "sse" for a server-sent event stream. */
  responses: Record<number, { description: string; schema?: Schema; sse?: Schema | true }>;
}

const errors = (statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [s, { description: ERROR_TEXT[s] ?? "error", schema: ErrorBodySchema }]));
const ERROR_TEXT: Record<number, string> = {
  400: "invalid request: the message names the field",
  401: "missing, unknown or revoked key",
  404: "not found (also another tenant's solve)",
  409: "conflict (an Idempotency-Key used with another body)",
  413: `body larger than ${MAX_BODY_BYTES} bytes`,
  415: "Content-Type is not application/json",
  429: "rate limit or daily cap; Retry-After says when to retry and the message names the limit",
};
const COMMON = [400, 401, 413, 415, 429];

export const OPERATIONS: Operation[] = [
  {
    method: "post",
    path: "/v1/solves",
    tag: "solves",
    auth: "key",
    idempotent: true,
    request: CreateSolveSchema,
    summary: "Start a solve",
    description:
      'Spends the budget on the named strategy, or with `{"strategy": "auto"}` (the default) on the one the fitted policy chooses for this prompt within the budget (the solve\'s `policy` says which, why and from what evidence); `dry_run: true` returns that decision and starts nothing. Under a policy that probes first (a verifier probe of k samples scored by the PRM, run as the solve\'s first step and paid from its budget), the solve\'s `policy` is `state: "probing"` until the probe is scored, then `decided` with the probe\'s features and spend; a cap too small for the probe and an arm after it decides from the text alone (`estimator: "free"`, `probeSkipped` says why); a dry run shows the probe that would run and a `forecast` (the text\'s own bin, the arm each bin would get after the probe, their accuracy and token range). `mode: "sync"` waits for the answer (200); `async` answers 202 at once. Budget fields left out take the key\'s per-solve defaults for tokens and money.',
    responses: {
      200: {
        description: "the finished solve (sync), or the policy's decision (dry_run)",
        schema: z.union([SolveViewSchema, DryRunViewSchema]),
      },
      202: { description: "the started solve (async)", schema: SolveViewSchema },
      ...errors([...COMMON, 409]),
    },
  },
  {
    method: "get",
    path: "/v1/solves/:id",
    tag: "solves",
    auth: "key",
    summary: "A solve's status, answer and spend",
    responses: { 200: { description: "the solve", schema: SolveViewSchema }, ...errors([401, 404, 429]) },
  },
  {
    method: "get",
    path: "/v1/solves/:id/events",
    tag: "solves",
    auth: "key",
    summary: "Progress as server-sent events",
    description:
      "A `started` event, a `step` event per executor step (spend so far, timings) and a final `done`, pushed as they happen; between events a `: ping` comment every 15 s and a blank line every second. Reconnect with `Last-Event-ID` to get what was missed; 204 once everything was sent. A key may hold `EVENT_STREAMS_PER_KEY` streams open at once (50 by default): beyond it, 429 with `Retry-After`.",
    responses: {
      200: { description: "event stream", sse: true },
      204: { description: "nothing more to send" },
      ...errors([401, 404, 429]),
    },
  },
  {
    method: "post",
    path: "/v1/solves/:id/feedback",
    tag: "solves",
    auth: "key",
    request: FeedbackSchema,
    summary: "Report a finished solve's outcome",
    description:
      "`correct` (true or false), the right `answer` (graded against the solve's), or both: the labels a policy re-tune learns from. Every report is kept; the latest counts.",
    responses: {
      201: { description: "the report as recorded", schema: FeedbackViewSchema },
      ...errors([...COMMON, 404, 409]),
    },
  },
  {
    method: "post",
    path: "/v1/solves/:id/cancel",
    tag: "solves",
    auth: "key",
    summary: "Cancel a solve",
    description: "Takes effect after the step in flight, whose spend is counted; answers with the solve as it ended.",
    responses: { 200: { description: "the solve", schema: SolveViewSchema }, ...errors([401, 404, 429]) },
  },
  {
    method: "get",
    path: "/v1/policy",
    tag: "policy",
    auth: "key or admin",
    query: {
      tenant:
        "With the ADMIN_SECRET: the tenant whose policy (absent: the global policy). With a key: its own tenant only.",
    },
    summary: "The policy auto solves use",
    description:
      "The active version's document for the caller's tenant: its own version if a re-tune of its feedback won, else the global policy (`source` says which; docs/policy-isolation.md). Its difficulty estimator and thresholds, and per difficulty bin the configuration for each cost budget with the evidence it was chosen on.",
    responses: {
      200: { description: "the active policy", schema: ActivePolicyViewSchema },
      ...errors([401, 403, 404, 429]),
    },
  },
  {
    method: "get",
    path: "/v1/policy/versions",
    tag: "policy",
    auth: "key or admin",
    query: {
      tenant:
        "With the ADMIN_SECRET: the tenant whose policy (absent: the global policy). With a key: its own tenant only.",
    },
    summary: "Every policy version and the history of the active one",
    description:
      "For the global policy: the shipped calibration, uploads and every global re-tune; for a tenant: its own re-tunes. Newest first, with what each re-tune's cross-validated comparison decided and why; `history` lists promotions and rollbacks of that policy.",
    responses: {
      200: { description: "versions and history", schema: PolicyVersionListSchema },
      ...errors([401, 403, 404, 429]),
    },
  },
  {
    method: "post",
    path: "/v1/policy/retune",
    tag: "policy",
    auth: "key or admin",
    query: {
      tenant:
        "With the ADMIN_SECRET: the tenant whose policy (absent: the global policy). With a key: its own tenant only.",
    },
    summary: "Re-tune the policy from feedback now",
    description:
      "A tenant's re-tune refits from that tenant's own labelled outcomes (POST /v1/solves/{id}/feedback) with the global policy as the prior; the global re-tune refits from trusted tenants' outcomes only, no one tenant more than a capped share (docs/policy-isolation.md). The refit is compared with the scope's active version by two-fold replay, stored either way, and made active (for that scope only) only if it is no dearer and not less accurate, or dearer and more accurate. The cron trigger does the same hourly when enough new outcomes arrived. Too few outcomes: 422 and no new version.",
    responses: {
      201: { description: "the new version and what was decided", schema: RetuneViewSchema },
      ...errors([401, 403, 404]),
      422: {
        description: "too few labelled outcomes: the message says how many there are and how many are needed",
        schema: ErrorBodySchema,
      },
    },
  },
  {
    method: "post",
    path: "/v1/policy/versions",
    tag: "policy",
    auth: "admin",
    request: UploadPolicySchema,
    summary: "Install a policy fitted elsewhere",
    description:
      "For a policy calibrated against real providers (`npm run calibrate -- --dataset FILE --service URL --key KEY`). The document is validated in full (400 names the first offending field); with `activate: true` it becomes the active version at once, otherwise POST /v1/policy/rollback activates it later.",
    responses: {
      201: { description: "stored (and active, if asked)", schema: UploadedPolicyViewSchema },
      ...errors([400, 401, 403, 409, 413, 415]),
    },
  },
  {
    method: "post",
    path: "/v1/policy/rollback",
    tag: "policy",
    auth: "key or admin",
    query: {
      tenant:
        "With the ADMIN_SECRET: the tenant whose policy (absent: the global policy). With a key: its own tenant only.",
    },
    request: RollbackSchema,
    summary: "Make an earlier version active again",
    description:
      'Global: to the shipped calibration, a version that was active before, or one the operator uploaded. A tenant: to one of its own versions that was active before, or to `"global"` to follow the global policy again. Logged in that policy\'s history. A re-tune that was not promoted cannot be made active.',
    responses: {
      200: { description: "the version now active", schema: RollbackViewSchema },
      ...errors([400, 401, 403, 404, 409, 413, 415]),
    },
  },
  {
    method: "get",
    path: "/v1/usage",
    tag: "account",
    auth: "key",
    summary: "This key's limits and today's spend",
    responses: { 200: { description: "limits and spend (UTC day)", schema: UsageViewSchema }, ...errors([401, 429]) },
  },
  {
    method: "post",
    path: "/v1/chat/completions",
    tag: "openai",
    auth: "key",
    idempotent: true,
    request: ChatCompletionRequestSchema,
    summary: "OpenAI-compatible chat completion",
    description:
      `\`model\` names the strategy (${MODELS.map((m) => m.id).join(", ")}); \`reasoning_effort\` sets the generation budget N (${Object.entries(
        EFFORT_GENERATIONS,
      )
        .map(([e, n]) => `${e} ${n}`)
        .join(", ")}); the \`ttc\` field overrides strategy parameters and gives the budget. ` +
      "With `stream: true`: the role first, a `reasoning_content` line per search step as it happens, then the answer. `usage.completion_tokens_details.reasoning_tokens` counts the search. Errors come in OpenAI's shape.",
    responses: {
      200: {
        description: "the completion, or with stream: true an event stream of chunks",
        schema: ChatCompletionSchema,
        sse: ChatCompletionChunkSchema,
      },
      ...errors([...COMMON, 404, 409, 502]),
    },
  },
  {
    method: "post",
    path: "/v1/responses",
    tag: "openai",
    auth: "key",
    idempotent: true,
    request: ResponseCreateSchema,
    summary: "OpenAI Responses API: create a response",
    description:
      "`input` is a string or messages (system, developer, user, assistant); `instructions`, `reasoning.effort` (as `reasoning_effort` on chat), `max_output_tokens` (a token cap on the whole search), `metadata`. " +
      "With `stream: true`: typed events from `response.created` to `response.completed`. With `background: true`: an async solve, answered at once `in_progress`; poll `GET /v1/responses/{id}`, or name `ttc.webhook.url` for the tenant's signed webhook. " +
      "Parameters without a meaning here are ignored and named in `x-ttc-ignored-params`.",
    responses: {
      200: {
        description: "the response (in progress when background), or with stream: true an event stream",
        schema: ResponseObjectSchema,
        sse: ResponseStreamEventSchema,
      },
      ...errors([...COMMON, 404, 409]),
    },
  },
  {
    method: "get",
    path: "/v1/responses/:id",
    tag: "openai",
    auth: "key",
    summary: "A response (its solve), in progress or finished",
    responses: { 200: { description: "the response", schema: ResponseObjectSchema }, ...errors([401, 404, 429]) },
  },
  {
    method: "post",
    path: "/v1/responses/:id/cancel",
    tag: "openai",
    auth: "key",
    summary: "Cancel a response: provider calls in flight are aborted, the best answer so far is kept",
    responses: {
      200: { description: "the response, settled", schema: ResponseObjectSchema },
      ...errors([401, 404, 429]),
    },
  },
  {
    method: "get",
    path: "/v1/models",
    tag: "openai",
    auth: "key",
    summary: "The models (one per strategy)",
    responses: { 200: { description: "models", schema: ModelListSchema }, ...errors([401, 429]) },
  },
  {
    method: "get",
    path: "/v1/models/:id",
    tag: "openai",
    auth: "key",
    summary: "One model",
    responses: { 200: { description: "the model", schema: ModelSchema }, ...errors([401, 404, 429]) },
  },
  {
    method: "get",
    path: "/v1/webhooks/secret",
    tag: "webhooks",
    auth: "key",
    summary: "The tenant's webhook signing secret (whsec_…)",
    description:
      "Deliveries are signed per Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature` (`v1,` HMAC-SHA256).",
    responses: {
      200: { description: "the secret, and until when the previous one still signs", schema: WebhookSecretSchema },
      ...errors([401, 429]),
    },
  },
  {
    method: "post",
    path: "/v1/webhooks/secret/rotate",
    tag: "webhooks",
    auth: "key",
    summary: "Rotate the signing secret",
    description: "For 24 hours deliveries carry signatures with both the new and the previous secret.",
    responses: { 200: { description: "the new secret", schema: WebhookSecretSchema }, ...errors([401, 429]) },
  },
  {
    method: "get",
    path: "/v1/webhooks/deliveries",
    tag: "webhooks",
    auth: "key",
    summary: "The delivery log (newest first); ?status=, ?solveId=, ?limit=",
    responses: {
      200: { description: "deliveries", schema: z.object({ data: z.array(DeliverySchema) }) },
      ...errors([400, 401, 429]),
    },
  },
  {
    method: "get",
    path: "/v1/webhooks/deliveries/:id",
    tag: "webhooks",
    auth: "key",
    summary: "A delivery with its payload and every attempt",
    responses: { 200: { description: "the delivery", schema: DeliveryDetailSchema }, ...errors([401, 404, 429]) },
  },
  {
    method: "post",
    path: "/v1/webhooks/deliveries/:id/replay",
    tag: "webhooks",
    auth: "key",
    summary: "Send a delivery again (same webhook-id)",
    responses: {
      202: { description: "queued", schema: z.object({ id: z.string(), status: z.literal("pending") }) },
      ...errors([401, 404, 409, 429]),
    },
  },
  {
    method: "post",
    path: "/v1/webhooks/endpoints/enable",
    tag: "webhooks",
    auth: "key",
    request: EnableEndpointSchema,
    summary: "Enable an endpoint disabled after it answered 410",
    responses: {
      200: { description: "enabled", schema: z.object({ url: z.string(), enabled: z.literal(true) }) },
      ...errors([...COMMON, 404]),
    },
  },
  {
    method: "post",
    path: "/admin/tenants",
    tag: "admin",
    auth: "admin",
    request: CreateTenantSchema,
    summary: "Create a tenant",
    responses: { 201: { description: "the tenant", schema: TenantSchema }, ...errors([400, 401, 403]) },
  },
  {
    method: "get",
    path: "/admin/tenants",
    tag: "admin",
    auth: "admin",
    summary: "List tenants, with whether each is trusted to train the global policy",
    responses: {
      200: { description: "tenants", schema: z.object({ data: z.array(TenantListingSchema) }) },
      ...errors([401, 403]),
    },
  },
  {
    method: "post",
    path: "/admin/tenants/:id/trust",
    tag: "admin",
    auth: "admin",
    request: TenantTrustSchema,
    summary: "Trust a tenant's feedback to train the global policy, or stop",
    description:
      "Every tenant's feedback re-tunes its own policy; only trusted tenants' feedback trains the global one, each capped to a share of the fit (docs/policy-isolation.md).",
    responses: {
      200: { description: "the tenant", schema: TenantListingSchema },
      ...errors([400, 401, 403, 404, 413, 415]),
    },
  },
  {
    method: "post",
    path: "/admin/keys",
    tag: "admin",
    auth: "admin",
    request: CreateKeySchema,
    summary: "Create an API key (shown once)",
    responses: {
      201: { description: "the key and its limits", schema: CreatedKeySchema },
      ...errors([400, 401, 403, 404]),
    },
  },
  {
    method: "get",
    path: "/admin/keys",
    tag: "admin",
    auth: "admin",
    summary: "List keys (no secrets); ?tenantId= filters",
    responses: {
      200: { description: "keys", schema: z.object({ data: z.array(KeyListingSchema) }) },
      ...errors([401, 403]),
    },
  },
  {
    method: "post",
    path: "/admin/keys/:id/revoke",
    tag: "admin",
    auth: "admin",
    summary: "Revoke a key",
    responses: {
      200: { description: "revoked", schema: z.object({ id: z.string(), revoked: z.literal(true) }) },
      ...errors([401, 403, 404]),
    },
  },
  {
    method: "get",
    path: "/healthz",
    tag: "service",
    auth: "none",
    summary: "Liveness",
    responses: { 200: { description: "ok", schema: z.object({ ok: z.literal(true) }) } },
  },
  {
    method: "get",
    path: "/openapi.json",
    tag: "service",
    auth: "none",
    summary: "This document",
    responses: { 200: { description: "OpenAPI 3.1" } },
  },
  {
    method: "get",
    path: "/docs",
    tag: "service",
    auth: "none",
    summary: "Readable API documentation (works offline)",
    responses: { 200: { description: "HTML" } },
  },
];

export function jsonSchema(schema: Schema): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    target: "draft-2020-12",
    io: "input",
    unrepresentable: "any",
  }) as Record<string, unknown>;
  return rest;
}

export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z]+)/g, "{$1}");
}

export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS) {
    const params = [...op.path.matchAll(/:([A-Za-z]+)/g)].map((m) => ({
      name: m[1],
      in: "path",
      required: true,
      schema: { type: "string" },
    }));
    for (const [name, description] of Object.entries(op.query ?? {}))
      params.push({ name, in: "query", required: false, schema: { type: "string" }, description } as never);
    if (op.idempotent)
      params.push({
        name: "Idempotency-Key",
        in: "header",
        required: false,
        schema: { type: "string", maxLength: 255 } as never,
      });
    const responses: Record<string, unknown> = {};
    for (const [status, r] of Object.entries(op.responses)) {
      const content: Record<string, unknown> = {};
      if (r.schema) content["application/json"] = { schema: jsonSchema(r.schema) };
      if (r.sse)
        content["text/event-stream"] = r.sse === true ? { schema: { type: "string" } } : { schema: jsonSchema(r.sse) };
      responses[status] = { description: r.description, ...(Object.keys(content).length ? { content } : {}) };
    }
    (paths[openApiPath(op.path)] ??= {})[op.method] = {
      tags: [op.tag],
      summary: op.summary,
      ...(op.description ? { description: op.description } : {}),
      operationId: `${op.method}${openApiPath(op.path).replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ""))}`,
      security:
        op.auth === "none"
          ? []
          : op.auth === "key or admin"
            ? [{ apiKey: [] }, { adminSecret: [] }]
            : [{ [op.auth === "admin" ? "adminSecret" : "apiKey"]: [] }],
      ...(params.length ? { parameters: params } : {}),
      ...(op.request
        ? { requestBody: { required: true, content: { "application/json": { schema: jsonSchema(op.request) } } } }
        : {}),
      responses,
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "ttc-edge",
      version: "0.1.0",
      description:
        "Compute-optimal test-time compute as a service: a prompt and a budget in, the answer most likely to be right out.",
    },
    servers: [{ url: "/" }],
    components: {
      securitySchemes: {
        apiKey: {
          type: "http",
          scheme: "bearer",
          description: "An API key (ttc_…) from `npm run keys -- create` or POST /admin/keys",
        },
        adminSecret: { type: "http", scheme: "bearer", description: "The ADMIN_SECRET Worker secret" },
      },
    },
    paths,
  };
}
