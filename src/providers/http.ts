/**
 * JSON over HTTP for provider adapters: a timeout per attempt, retries with full-jitter exponential backoff
 * on 429, 5xx, timeouts, dropped connections and unreadable bodies, honouring Retry-After. Every failure
 * becomes a ProviderError whose message says which provider, what happened and after how many attempts.
 */

export class ProviderError extends Error {
  constructor(
    message: string,
    /** Whether trying again may succeed (rate limits, server errors, timeouts). */
    readonly retryable: boolean,
    readonly status?: number,
  ) {
    super(message);
    this.name = "ProviderError";
  }
}

export interface HttpOptions {
  /** Per attempt. */
  timeoutMs: number;
  /** Attempts after the first. */
  retries: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  headers?: Record<string, string>;
  fetch?: typeof fetch;
  /** Uniform in [0, 1): injectable so tests are deterministic. */
  random?: () => number;
}

/** Longer waits than this are not worth holding a solve for: fail and let the caller decide. */
export const MAX_RETRY_AFTER_MS = 5 * 60_000;

export const DEFAULT_HTTP: HttpOptions = { timeoutMs: 60_000, retries: 3, backoffBaseMs: 250, backoffMaxMs: 8_000 };

function retryAfterMs(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** One call's context: its idempotency key, its deadline, and where attempts billed but unusable are reported. */
export interface CallOptions {
  /** Sent as `Idempotency-Key`: the same for every attempt, so a provider that honours it bills one call once. */
  idempotencyKey?: string;
  /** Epoch milliseconds: no attempt runs past it and no retry starts after it. */
  deadline?: number;
  /** An attempt the provider may have billed but whose body could not be used (cut short, garbled, timed out). */
  billedUnread?(detail: string): void;
  /** Asked before each retry: false when another attempt could exceed the caller's budget. */
  mayRetry?(): boolean;
  /** The solve was cancelled: the attempt in flight is aborted (what it may have cost is reported) and none follows. */
  signal?: AbortSignal;
}

/** The caller aborted (its solve was cancelled): not retried. */
export class CancelledError extends ProviderError {
  constructor(label: string) {
    super(`${label}: cancelled`, false);
  }
}

async function attempt(
  url: string,
  body: unknown,
  label: string,
  options: HttpOptions,
  call: CallOptions,
  timeoutMs: number,
): Promise<{ ok: true; value: unknown } | { ok: false; error: ProviderError; waitMs?: number }> {
  const doFetch = options.fetch ?? fetch;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const cancel = () => controller.abort();
  call.signal?.addEventListener("abort", cancel);
  try {
    const res = await doFetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...options.headers,
        ...(call.idempotencyKey ? { "idempotency-key": call.idempotencyKey } : {}),
      },
      body: JSON.stringify(body),
      signal: controller.signal,
    });
    const text = await res.text();
    if (!res.ok) {
      const retryable = res.status === 429 || res.status >= 500;
      let detail = text.slice(0, 200);
      try {
        // OpenAI, Ollama and llama.cpp: {error: {message}}; TGI: {error: "..."}; vLLM and SGLang: {message};
        // FastAPI: {detail}.
        const parsed = JSON.parse(text) as {
          error?: { message?: string } | string;
          message?: unknown;
          detail?: unknown;
        };
        detail =
          typeof parsed.error === "string"
            ? parsed.error
            : (parsed.error?.message ??
              (typeof parsed.message === "string" ? parsed.message : undefined) ??
              (typeof parsed.detail === "string" ? parsed.detail : detail));
      } catch {
        // keep the raw text
      }
      const waitMs = retryAfterMs(res.headers.get("retry-after"));
      return {
        ok: false,
        error: new ProviderError(`${label}: HTTP ${res.status}: ${detail}`, retryable, res.status),
        ...(waitMs !== undefined ? { waitMs } : {}),
      };
    }
    try {
      return { ok: true, value: JSON.parse(text) as unknown };
    } catch {
      // A body cut short or garbled in transit: the provider did the work, so it billed it; worth another try.
      const detail = `${label}: response body is not valid JSON (${text.length} bytes)`;
      call.billedUnread?.(detail);
      return { ok: false, error: new ProviderError(detail, true, res.status) };
    }
  } catch (err) {
    if (call.signal?.aborted) {
      // Cancelled with the request in flight: the provider may have billed it all the same.
      call.billedUnread?.(`${label}: cancelled in flight`);
      return { ok: false, error: new CancelledError(label) };
    }
    const timedOut = controller.signal.aborted;
    const message = timedOut
      ? `no response within ${timeoutMs} ms`
      : `request failed: ${err instanceof Error ? err.message : String(err)}`;
    // A request that timed out may still have been served and billed.
    if (timedOut) call.billedUnread?.(`${label}: ${message}`);
    return { ok: false, error: new ProviderError(`${label}: ${message}`, true) };
  } finally {
    clearTimeout(timer);
    call.signal?.removeEventListener("abort", cancel);
  }
}

/**
 * POST a JSON body and return the parsed JSON response, retrying what may succeed on another try. With a
 * deadline, each attempt's timeout is cut to the time left and no retry waits past it.
 */
export async function postJson(
  url: string,
  body: unknown,
  label: string,
  options: HttpOptions = DEFAULT_HTTP,
  call: CallOptions = {},
): Promise<unknown> {
  const random = options.random ?? Math.random;
  const left = (): number => (call.deadline === undefined ? Infinity : call.deadline - Date.now());
  let last: ProviderError | undefined;
  for (let i = 0; i <= options.retries; i++) {
    if (call.signal?.aborted) throw new CancelledError(label);
    const timeoutMs = Math.min(options.timeoutMs, left());
    if (timeoutMs <= 0)
      throw new ProviderError(
        `${label}: the solve's deadline passed${last ? ` (last attempt: ${last.message})` : ""}`,
        false,
      );
    const r = await attempt(url, body, label, options, call, timeoutMs);
    if (r.ok) return r.value;
    last = r.error;
    if (!r.error.retryable || i === options.retries) break;
    const backoff = random() * Math.min(options.backoffMaxMs, options.backoffBaseMs * 2 ** i);
    // The server said when to come back: trying sooner only spends a retry on another 429.
    const wait = r.waitMs !== undefined ? Math.max(r.waitMs, backoff) : backoff;
    if (wait > MAX_RETRY_AFTER_MS) {
      throw new ProviderError(
        `${r.error.message} (the provider asks to retry after ${Math.round(wait / 1000)} s)`,
        false,
        r.error.status,
      );
    }
    if (wait >= left())
      throw new ProviderError(
        `${r.error.message} (no time left before the solve's deadline to retry)`,
        false,
        r.error.status,
      );
    if (call.mayRetry && !call.mayRetry())
      throw new ProviderError(
        `${r.error.message} (another attempt could exceed the solve's budget)`,
        false,
        r.error.status,
      );
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, wait);
      call.signal?.addEventListener("abort", done);
      function done(): void {
        clearTimeout(timer);
        call.signal?.removeEventListener("abort", done);
        resolve();
      }
    });
  }
  const attempts = options.retries + 1;
  throw new ProviderError(
    last!.retryable ? `${last!.message} (gave up after ${attempts} attempts)` : last!.message,
    false,
    last!.status,
  );
}
