/**
 * A small client for a running ttc-edge service, for calibration and measurement scripts: sync solves,
 * feedback and the key check, with 429s retried after their Retry-After and transient 502/503s and dropped
 * connections retried with backoff. Runtime-neutral (only `fetch`), so tests can hand it a Worker's fetch.
 */
import { FeedbackViewSchema, SolveViewSchema, UsageViewSchema, type SolveView } from "../api/schemas";
import { CalibratedForSchema, type CalibratedFor } from "../policy/fingerprint";

/** The service answered with an error status (after retries where they apply). */
export class ServiceError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly serviceMessage: string,
    readonly path: string,
  ) {
    super(`${path}: HTTP ${status} ${type}: ${serviceMessage}`);
  }
}

/** Nothing answered at the service's address (connection refused, DNS, timeout), after retries. */
export class ServiceUnreachable extends Error {}

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface ServiceClientOptions {
  /** The service's base URL, e.g. http://localhost:8787 (a trailing slash is ignored). */
  base: string;
  key: string;
  fetch?: FetchLike;
  /** Attempts for one request that keeps getting 429 or 502/503 (default 10). */
  maxAttempts?: number;
  /** Attempts for one request that finds nothing listening (default 4: about 2 s, so a wrong URL fails fast). */
  maxConnectAttempts?: number;
  /** Longest wait honoured from a Retry-After (default 120 s); a longer one ends the request with its error. */
  maxRetryAfterMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** How often a solve still running after a sync request's timeout (504) is polled (default 1 s). */
  pollMs?: number;
}

/**
 * Milliseconds to wait from a Retry-After header: delta-seconds or an HTTP date; null when absent or
 * unreadable.
 */
export function retryAfterMs(header: string | null, now = Date.now()): number | null {
  if (header === null || header.trim() === "") return null;
  const v = header.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

function reasonOf(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}

export interface SolveBody {
  prompt: string;
  strategy?: Record<string, unknown>;
  budget?: Record<string, number>;
  seed?: number;
  mode?: "sync" | "async";
  dry_run?: boolean;
}

export interface ServiceClient {
  base: string;
  /** GET /v1/usage: checks the key; the service's 401 message when it is not accepted. */
  usage(): Promise<ReturnType<typeof UsageViewSchema.parse>>;
  /** POST /v1/solves in sync mode, returning the finished solve (polled when the sync wait times out). */
  solve(body: SolveBody, idempotencyKey?: string): Promise<SolveView>;
  /** GET /v1/policy: the providers the service is configured with, as a calibration fingerprints them. */
  configuredProviders(): Promise<CalibratedFor | null>;
  /** POST /v1/solves with dry_run: the auto decision only. */
  dryRun(body: SolveBody): Promise<{ policy: SolveView["policy"] }>;
  feedback(
    id: string,
    body: { correct?: boolean; answer?: string },
  ): Promise<ReturnType<typeof FeedbackViewSchema.parse>>;
  /** Requests retried so far (429, 502/503, no connection), for the report. */
  retries(): number;
}

export function createServiceClient(options: ServiceClientOptions): ServiceClient {
  const base = options.base.replace(/\/+$/, "");
  const doFetch = options.fetch ?? ((input: string, init?: RequestInit) => fetch(input, init));
  const maxAttempts = options.maxAttempts ?? 10;
  const maxRetryAfter = options.maxRetryAfterMs ?? 120_000;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let retried = 0;

  async function request(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; json: unknown }> {
    let lastProblem = "";
    for (let attempt = 1; ; attempt++) {
      let res: Response;
      try {
        res = await doFetch(`${base}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${options.key}`,
            ...(body === undefined ? {} : { "content-type": "application/json" }),
            ...headers,
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
      } catch (err) {
        lastProblem = reasonOf(err);
        if (attempt >= (options.maxConnectAttempts ?? 4))
          throw new ServiceUnreachable(`cannot reach the service at ${base} (${lastProblem})`);
        retried++;
        await sleep(Math.min(10_000, 250 * 2 ** (attempt - 1)));
        continue;
      }
      const text = await res.text();
      let json: unknown = null;
      try {
        json = text === "" ? null : JSON.parse(text);
      } catch {
        json = null;
      }
      const retryable = res.status === 429 || res.status === 502 || res.status === 503;
      if (retryable && attempt < maxAttempts) {
        const wait = retryAfterMs(res.headers.get("retry-after")) ?? Math.min(10_000, 250 * 2 ** (attempt - 1));
        if (wait <= maxRetryAfter) {
          retried++;
          await sleep(wait);
          continue;
        }
      }
      if (res.status >= 400) {
        const err = (json as { error?: { type?: string; message?: string } } | null)?.error;
        throw new ServiceError(
          res.status,
          err?.type ?? "error",
          err?.message ?? (text.slice(0, 200) || res.statusText),
          `${method} ${path}`,
        );
      }
      return { status: res.status, json };
    }
  }

  function parsed<T>(
    schema: {
      safeParse(
        v: unknown,
      ): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } };
    },
    json: unknown,
    what: string,
  ): T {
    const r = schema.safeParse(json);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw new Error(
        `${what}: the service's answer is not what this client expects (${issue?.path.join(".") || "body"}: ${issue?.message}); is ${base} a ttc-edge service of this version?`,
      );
    }
    return r.data;
  }

  return {
    base,
    retries: () => retried,
    async usage() {
      const { json } = await request("GET", "/v1/usage");
      return parsed(UsageViewSchema, json, "GET /v1/usage");
    },
    async solve(body, idempotencyKey) {
      try {
        const { json } = await request(
          "POST",
          "/v1/solves",
          { ...body, mode: "sync" },
          idempotencyKey ? { "idempotency-key": idempotencyKey } : {},
        );
        return parsed(SolveViewSchema, json, "POST /v1/solves");
      } catch (err) {
        // A sync solve that outlives the wait answers 504 naming the solve; it keeps running, so poll it.
        const id =
          err instanceof ServiceError && err.status === 504
            ? /solve ([0-9a-f-]{36})/.exec(err.serviceMessage)?.[1]
            : undefined;
        if (!id) throw err;
        for (;;) {
          await sleep(options.pollMs ?? 1000);
          const view = parsed(SolveViewSchema, (await request("GET", `/v1/solves/${id}`)).json, `GET /v1/solves/${id}`);
          if (view.status === "done") return view;
        }
      }
    },
    async configuredProviders() {
      const { json } = await request("GET", "/v1/policy");
      const configured = (json as { calibration?: { configured?: unknown } } | null)?.calibration?.configured;
      return parsed(CalibratedForSchema.nullable(), configured ?? null, "GET /v1/policy");
    },
    async dryRun(body) {
      const { json } = await request("POST", "/v1/solves", { ...body, dry_run: true });
      const policy = (json as { policy?: unknown } | null)?.policy;
      return { policy: parsed(SolveViewSchema.shape.policy, policy, "POST /v1/solves (dry run)") };
    },
    async feedback(id, body) {
      const { json } = await request("POST", `/v1/solves/${id}/feedback`, body);
      return parsed(FeedbackViewSchema, json, `POST /v1/solves/${id}/feedback`);
    },
  };
}

/** One line for a command's user: what failed talking to the service. */
export function describeServiceFailure(err: unknown, base: string): string | null {
  if (err instanceof ServiceUnreachable) return err.message;
  if (err instanceof ServiceError) {
    if (err.status === 401 || err.status === 403)
      return `${base} refused the key (HTTP ${err.status}): ${err.serviceMessage}`;
    return `${base} answered ${err.path} with HTTP ${err.status} (${err.type}): ${err.serviceMessage}`;
  }
  return null;
}
