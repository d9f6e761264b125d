/** D1 tables (drizzle). Migrations are generated from this file into migrations/ by `npm run db:generate`. */
import { integer, real, sqliteTable, text, index, primaryKey, uniqueIndex } from "drizzle-orm/sqlite-core";

/** One row per solve, written when it ends. */
export const solves = sqliteTable(
  "solves",
  {
    id: text("id").primaryKey(),
    /** Null only in rows written before tenants existed. */
    tenantId: text("tenant_id"),
    keyId: text("key_id"),
    promptHash: text("prompt_hash").notNull(),
    status: text("status").notNull(),
    stopReason: text("stop_reason"),
    detail: text("detail"),
    strategy: text("strategy").notNull(),
    /** The strategy specification as JSON. */
    spec: text("spec").notNull(),
    budget: text("budget").notNull(),
    seed: integer("seed").notNull(),
    answer: text("answer"),
    confidence: real("confidence"),
    generations: real("generations").notNull(),
    samples: integer("samples").notNull(),
    generatorTokens: integer("generator_tokens").notNull(),
    verifierTokens: integer("verifier_tokens").notNull(),
    flops: real("flops").notNull(),
    money: real("money").notNull(),
    steps: integer("steps").notNull(),
    createdAt: integer("created_at").notNull(),
    finishedAt: integer("finished_at").notNull(),
    /** For auto solves, what the policy decided (null otherwise): the data a re-tune learns from with feedback. */
    policyVersion: text("policy_version"),
    predictedBin: integer("predicted_bin"),
    estimator: text("estimator"),
    /** 1 when the choice was an exploration of an alternative rather than the policy's best. */
    exploration: integer("exploration"),
    /** The estimator's inputs (its feature vector) as JSON, so a re-tune can refit it. */
    features: text("features"),
    /** The token cap the auto choice was made within (a re-tune replays choices at it). */
    capTokens: real("cap_tokens"),
    /** For a policy in dollars or FLOPs, the cap in that unit the choice was made within (null for one in tokens). */
    capCost: real("cap_cost"),
    /** The probability the configuration run had of being chosen (exploration included): a re-tune's importance weight. */
    propensity: real("propensity"),
  },
  (t) => [
    index("solves_created_at").on(t.createdAt),
    index("solves_tenant").on(t.tenantId, t.createdAt),
    index("solves_policy").on(t.policyVersion, t.finishedAt),
  ],
);

/** Outcomes reported for solves (POST /v1/solves/:id/feedback). Every report is kept; the latest counts. */
export const solveFeedback = sqliteTable(
  "solve_feedback",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    solveId: text("solve_id").notNull(),
    tenantId: text("tenant_id").notNull(),
    /** Whether the solve's answer was right, as reported or as graded against `answer`. */
    correct: integer("correct").notNull(),
    /** The right answer, when the caller gave it. */
    answer: text("answer"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("solve_feedback_solve").on(t.solveId, t.createdAt)],
);

/**
 * One row per provider call (one per role per executor step, plus billed attempts that were discarded or
 * interrupted), written in a batch when the solve ends.
 */
export const providerCalls = sqliteTable(
  "provider_calls",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    solveId: text("solve_id").notNull(),
    /**
     * Position in the solve's call log: with the solve id, what makes a retried write insert nothing twice.
     * Null only in rows written before it existed (nulls never collide in the unique index).
     */
    seq: integer("seq"),
    step: integer("step").notNull(),
    provider: text("provider").notNull(),
    purpose: text("purpose").notNull(),
    requests: integer("requests").notNull(),
    samples: integer("samples").notNull(),
    promptTokens: integer("prompt_tokens").notNull(),
    completionTokens: integer("completion_tokens").notNull(),
    latencyMs: integer("latency_ms").notNull(),
    status: text("status").notNull(),
    /** 1 when the tokens are a worst-case bound rather than what the provider reported. */
    estimated: integer("estimated").notNull().default(0),
    cost: real("cost").notNull(),
  },
  (t) => [index("provider_calls_solve").on(t.solveId), uniqueIndex("provider_calls_once").on(t.solveId, t.seq)],
);

/** A customer: owns API keys, solves and a webhook signing secret. */
export const tenants = sqliteTable("tenants", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  createdAt: integer("created_at").notNull(),
  /** Standard Webhooks signing secret (whsec_…), made when first needed. */
  webhookSecret: text("webhook_secret"),
  /** The secret before the last rotation, still signed with until it expires. */
  webhookSecretPrevious: text("webhook_secret_previous"),
  webhookSecretPreviousUntil: integer("webhook_secret_previous_until"),
  /**
   * 1 when the operator trusts this tenant's feedback to train the global policy (docs/policy-isolation.md);
   * any other tenant's feedback re-tunes only its own policy.
   */
  trusted: integer("trusted").notNull().default(0),
});

/**
 * API keys, stored as the SHA-256 of the key (keys are 256 random bits, so a fast hash is enough and lets a
 * request find its key by an index lookup). The key itself is shown once, at creation.
 */
export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    name: text("name").notNull(),
    hash: text("hash").notNull(),
    /** The key's first characters, to tell keys apart in listings. */
    prefix: text("prefix").notNull(),
    ratePerMinute: integer("rate_per_minute").notNull(),
    tokensPerDay: integer("tokens_per_day").notNull(),
    moneyPerDay: real("money_per_day").notNull(),
    /** Budget for a solve whose request leaves the field out. */
    defaultSolveTokens: integer("default_solve_tokens").notNull(),
    defaultSolveMoney: real("default_solve_money").notNull(),
    createdAt: integer("created_at").notNull(),
    revokedAt: integer("revoked_at"),
  },
  (t) => [uniqueIndex("api_keys_hash").on(t.hash), index("api_keys_tenant").on(t.tenantId)],
);

/**
 * Idempotency-Key per tenant and route: the first request's body fingerprint and the solve it started, with
 * that solve's exact start input, so that a retry (or a racing duplicate) starts or finds the same solve.
 */
export const idempotencyKeys = sqliteTable(
  "idempotency_keys",
  {
    tenantId: text("tenant_id").notNull(),
    scope: text("scope").notNull(),
    key: text("key").notNull(),
    fingerprint: text("fingerprint").notNull(),
    solveId: text("solve_id").notNull(),
    startInput: text("start_input").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.scope, t.key] }), index("idempotency_created_at").on(t.createdAt)],
);

/** One webhook message (a solve's completion) and where its delivery stands. `id` is the webhook-id. */
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    solveId: text("solve_id").notNull(),
    url: text("url").notNull(),
    eventType: text("event_type").notNull(),
    payload: text("payload").notNull(),
    /** pending, delivered, failed (attempts exhausted or destination refused), disabled (410). */
    status: text("status").notNull(),
    attempts: integer("attempts").notNull(),
    lastStatusCode: integer("last_status_code"),
    lastError: text("last_error"),
    nextAttemptAt: integer("next_attempt_at"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("webhook_deliveries_tenant").on(t.tenantId, t.createdAt)],
);

/** Every attempt at a delivery: the delivery log. */
export const webhookAttempts = sqliteTable(
  "webhook_attempts",
  {
    deliveryId: text("delivery_id").notNull(),
    attempt: integer("attempt").notNull(),
    at: integer("at").notNull(),
    statusCode: integer("status_code"),
    error: text("error"),
  },
  (t) => [primaryKey({ columns: [t.deliveryId, t.attempt] })],
);

/** Endpoints that answered 410 Gone: nothing more is sent to them until the tenant enables them again. */
export const disabledEndpoints = sqliteTable(
  "webhook_disabled_endpoints",
  {
    tenantId: text("tenant_id").notNull(),
    url: text("url").notNull(),
    disabledAt: integer("disabled_at").notNull(),
    deliveryId: text("delivery_id").notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.url] })],
);

/**
 * Every policy version the service has had or considered: the shipped calibration is implicit (it is in the
 * bundle); re-tunes add rows. A row is written whole, validated, before it can become active.
 */
export const policyVersions = sqliteTable(
  "policy_versions",
  {
    version: text("version").primaryKey(),
    /** The tenant whose policy this is a version of; null for the global policy. */
    tenantId: text("tenant_id"),
    /** The policy document (ttc-policy/1) as JSON. */
    document: text("document").notNull(),
    kind: text("kind").notNull(),
    /** The version that was active when this one was fitted (its prior and its rival). */
    parent: text("parent"),
    /** Labelled outcomes it was fitted on. */
    outcomes: integer("outcomes").notNull(),
    /** The cross-validated comparison with the parent (JSON), and what was decided: promoted or rejected. */
    evaluation: text("evaluation").notNull(),
    decision: text("decision").notNull(),
    reason: text("reason").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    index("policy_versions_created").on(t.createdAt),
    index("policy_versions_tenant").on(t.tenantId, t.createdAt),
  ],
);

/** Which global version auto solves use: one row (id 1), absent until the first promotion or rollback. */
export const policyActive = sqliteTable("policy_active", {
  id: integer("id").primaryKey(),
  version: text("version").notNull(),
  since: integer("since").notNull(),
});

/**
 * Which of its own versions a tenant's auto solves use: one row per tenant that has one. A tenant without a
 * row follows the global policy.
 */
export const policyTenantActive = sqliteTable("policy_tenant_active", {
  tenantId: text("tenant_id").primaryKey(),
  version: text("version").notNull(),
  since: integer("since").notNull(),
});

/** The history of the active version: every promotion and rollback, and who made it. */
export const policyEvents = sqliteTable(
  "policy_events",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    /** The tenant whose policy moved; null for the global policy. */
    tenantId: text("tenant_id"),
    at: integer("at").notNull(),
    /** promote (a re-tune won), rollback (an admin chose an earlier version). */
    action: text("action").notNull(),
    fromVersion: text("from_version").notNull(),
    toVersion: text("to_version").notNull(),
    /** cron, or admin. */
    actor: text("actor").notNull(),
  },
  (t) => [index("policy_events_at").on(t.at), index("policy_events_tenant").on(t.tenantId, t.at)],
);
