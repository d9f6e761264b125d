/** What every adapter shares: its interfaces, HTTP options from configuration, batching and usage splitting. */
import type { ModelCard } from "../engine/budget";
import type {
  CallContext,
  GenerateRequest,
  GenerateResponse,
  ScoreRequest,
  ScoreResponse,
  Usage,
} from "../engine/types";
import type { z } from "zod";
import { DEFAULT_HTTP, postJson, ProviderError, type CallOptions, type HttpOptions } from "./http";

export interface GeneratorAdapter {
  card: ModelCard;
  /** Whether the adapter can continue a partial solution (step-wise search needs it). */
  continues: boolean;
  /** The provider as named in errors: its role name, kind and server. */
  label: string;
  /** Upper bound on the prompt tokens the provider will bill for a request. */
  promptTokenBound(req: GenerateRequest): number;
  generate(requests: GenerateRequest[], ctx?: CallContext): Promise<GenerateResponse[]>;
  /** HTTP requests `generate` may make for these requests, retries included. */
  subrequests(requests: readonly GenerateRequest[]): number;
}

export interface VerifierAdapter {
  card: ModelCard;
  /** Upper bound on the tokens (prompt and completion) the provider will bill for a request. */
  scoreTokenBound(req: ScoreRequest): number;
  score(requests: ScoreRequest[], ctx?: CallContext): Promise<ScoreResponse[]>;
  /** HTTP requests `score` may make for these requests, retries included. */
  subrequests(requests: readonly ScoreRequest[]): number;
}

export interface AdapterContext {
  /** Secret values by name (Worker secrets, environment variables). */
  secrets?: Record<string, string | undefined>;
  fetch?: typeof fetch;
  random?: () => number;
  /** Backoff base for retries; tests shorten it. */
  backoffBaseMs?: number;
  /** The Worker's bindings (Workers AI's `AI`), where a kind needs one. */
  bindings?: Record<string, unknown>;
}

/** The executor's view of a configured provider: prices, size and whether it replays repeated requests. */
export function cardOf(
  name: string,
  config: { parameters: number; inputPricePerMillion: number; outputPricePerMillion: number; replaysRequests: boolean },
): ModelCard {
  return {
    name,
    parameters: config.parameters,
    inputPricePerMillion: config.inputPricePerMillion,
    outputPricePerMillion: config.outputPricePerMillion,
    replaysRequests: config.replaysRequests,
  };
}

export function httpOptionsFor(
  config: {
    timeoutMs: number;
    retries: number;
    apiKeySecret?: string | undefined;
    headers?: Record<string, string> | undefined;
  },
  context: AdapterContext,
): HttpOptions {
  const key = config.apiKeySecret ? context.secrets?.[config.apiKeySecret] : undefined;
  // Header values come from named secrets only, so the configuration can be shown without leaking them.
  const extra: Record<string, string> = {};
  for (const [header, secret] of Object.entries(config.headers ?? {})) {
    const value = context.secrets?.[secret];
    if (typeof value !== "string" || value === "")
      throw new Error(`headers.${header}: the secret ${secret} is not set`);
    extra[header.toLowerCase()] = value;
  }
  const headers = { ...(key ? { authorization: `Bearer ${key}` } : {}), ...extra };
  return {
    ...DEFAULT_HTTP,
    timeoutMs: config.timeoutMs,
    retries: config.retries,
    ...(context.backoffBaseMs !== undefined
      ? { backoffBaseMs: context.backoffBaseMs, backoffMaxMs: Math.max(context.backoffBaseMs * 8, 1) }
      : {}),
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    ...(context.fetch ? { fetch: context.fetch } : {}),
    ...(context.random ? { random: context.random } : {}),
  };
}

/** Group request indices by key, in order, into batches of at most `max`. */
export function batchesOf<T>(items: readonly T[], key: (item: T) => string, max: number): number[][] {
  const open = new Map<string, number[]>();
  const batches: number[][] = [];
  items.forEach((item, i) => {
    const k = key(item);
    let batch = open.get(k);
    if (!batch || batch.length >= max) {
      batch = [];
      open.set(k, batch);
      batches.push(batch);
    }
    batch.push(i);
  });
  return batches;
}

/**
 * A batch's usage is reported once; attribute it to its requests in proportion to their prompt and
 * completion lengths, so that the parts add up exactly to what the provider billed.
 */
export function splitUsage(
  total: Usage,
  promptWeights: readonly number[],
  completionWeights: readonly number[],
): Usage[] {
  const split = (amount: number, weights: readonly number[]): number[] => {
    const sum = weights.reduce((a, b) => a + b, 0);
    const parts = weights.map((w) => (sum > 0 ? Math.floor((amount * w) / sum) : Math.floor(amount / weights.length)));
    const rest = amount - parts.reduce((a, b) => a + b, 0);
    if (parts.length > 0) parts[parts.length - 1]! += rest;
    return parts;
  };
  const p = split(total.promptTokens, promptWeights);
  const c = split(total.completionTokens, completionWeights);
  return p.map((promptTokens, i) => ({ promptTokens, completionTokens: c[i] ?? 0 }));
}

/** Validate a provider's response; a mismatch is a provider error naming the field. */
export function parseResponse<T extends z.ZodType>(
  schema: T,
  raw: unknown,
  provider: string,
  what: string,
): z.output<T> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new ProviderError(
    `provider ${provider}: malformed ${what} response: ${issue?.path.join(".") || "(root)"}: ${issue?.message}`,
    false,
  );
}

export function reportedUsage(raw: unknown): Usage | undefined {
  const u = (raw as { usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } } | null)?.usage;
  const p = u?.prompt_tokens;
  const c = u?.completion_tokens ?? 0;
  return typeof p === "number" && typeof c === "number" && p >= 0 && c >= 0
    ? { promptTokens: p, completionTokens: c }
    : undefined;
}

/**
 * Await every part of a call. When one fails, the parts that were answered beside it were billed all the
 * same: their usage is reported to the context before the first failure is rethrown, after every part settled.
 */
export async function allBilled<T>(
  tasks: readonly Promise<T>[],
  ctx: CallContext | undefined,
  usageOf: (value: T) => Usage,
): Promise<T[]> {
  const settled = await Promise.allSettled(tasks);
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (!failure) return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
  for (const s of settled) {
    if (s.status === "fulfilled")
      ctx?.billed({
        usage: usageOf(s.value),
        estimated: false,
        detail: "answered beside a part of the call that failed",
      });
  }
  throw failure.reason;
}

export function sumUsage(usages: readonly Usage[]): Usage {
  return {
    promptTokens: usages.reduce((t, u) => t + u.promptTokens, 0),
    completionTokens: usages.reduce((t, u) => t + u.completionTokens, 0),
  };
}

/**
 * POST and read a response with `read`. A response that arrived but does not answer the request (malformed,
 * the wrong number of results) was billed all the same: its reported usage (or `bound`) is charged through
 * the context before the error propagates.
 */
export async function postAndRead<T>(
  url: string,
  body: unknown,
  label: string,
  http: HttpOptions,
  ctx: CallContext | undefined,
  call: { part: string; replays: boolean; bound: () => Usage },
  read: (raw: unknown) => T,
): Promise<T> {
  const { bound } = call;
  let unread: string | undefined;
  const options: CallOptions = ctx
    ? {
        ...(ctx.requestId !== undefined ? { idempotencyKey: `${ctx.requestId}:${call.part}` } : {}),
        ...(ctx.deadline !== undefined ? { deadline: ctx.deadline } : {}),
        ...(ctx.mayRetry ? { mayRetry: ctx.mayRetry } : {}),
        ...(ctx.signal ? { signal: ctx.signal } : {}),
        // Every attempt bills unless the provider replays the key: then the attempts are one billed request,
        // charged by the answer that arrives, or once at its bound if none does.
        billedUnread: (detail) => {
          if (call.replays) unread = detail;
          else ctx.billed({ usage: bound(), estimated: true, detail });
        },
      }
    : {};
  let raw: unknown;
  try {
    raw = await postJson(url, body, label, http, options);
  } catch (err) {
    if (ctx && unread !== undefined) ctx.billed({ usage: bound(), estimated: true, detail: unread });
    throw err;
  }
  try {
    return read(raw);
  } catch (err) {
    if (ctx && err instanceof ProviderError) {
      const usage = reportedUsage(raw);
      ctx.billed({ usage: usage ?? bound(), estimated: usage === undefined, detail: err.message });
    }
    throw err;
  }
}
