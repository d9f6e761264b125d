/** What every adapter shares: its interfaces, HTTP options from configuration, batching and usage splitting. */
import type { ModelCard } from "../engine/budget";
import type { GenerateRequest, GenerateResponse, ScoreRequest, ScoreResponse, Usage } from "../engine/types";
import type { z } from "zod";
import { DEFAULT_HTTP, ProviderError, type HttpOptions } from "./http";

export interface GeneratorAdapter {
  card: ModelCard;
  /** Upper bound on the prompt tokens the provider will bill for a request. */
  promptTokenBound(req: GenerateRequest): number;
  generate(requests: GenerateRequest[]): Promise<GenerateResponse[]>;
}

export interface VerifierAdapter {
  card: ModelCard;
  /** Upper bound on the tokens (prompt and completion) the provider will bill for a request. */
  scoreTokenBound(req: ScoreRequest): number;
  score(requests: ScoreRequest[]): Promise<ScoreResponse[]>;
}

export interface AdapterContext {
  /** Secret values by name (Worker secrets, environment variables). */
  secrets?: Record<string, string | undefined>;
  fetch?: typeof fetch;
  random?: () => number;
  /** Backoff base for retries; tests shorten it. */
  backoffBaseMs?: number;
}

export function httpOptionsFor(config: { timeoutMs: number; retries: number; apiKeySecret?: string | undefined }, context: AdapterContext): HttpOptions {
  const key = config.apiKeySecret ? context.secrets?.[config.apiKeySecret] : undefined;
  return {
    ...DEFAULT_HTTP,
    timeoutMs: config.timeoutMs,
    retries: config.retries,
    ...(context.backoffBaseMs !== undefined ? { backoffBaseMs: context.backoffBaseMs, backoffMaxMs: Math.max(context.backoffBaseMs * 8, 1) } : {}),
    ...(key ? { headers: { authorization: `Bearer ${key}` } } : {}),
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
export function splitUsage(total: Usage, promptWeights: readonly number[], completionWeights: readonly number[]): Usage[] {
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
export function parseResponse<T extends z.ZodType>(schema: T, raw: unknown, provider: string, what: string): z.output<T> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new ProviderError(`provider ${provider}: malformed ${what} response: ${issue?.path.join(".") || "(root)"}: ${issue?.message}`, false);
}
