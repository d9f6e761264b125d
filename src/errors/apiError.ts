/**
 * Errors as every route answers them, in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}`
 * (`type` is OpenAI's error type, `code` ours, `param` the request field at fault or null). Handlers and
 * middleware throw `ApiError` (an HTTPException, so Hono's own middleware composes with it); one handler
 * renders every error, and `errorBody` builds the same body for a response made elsewhere (a throttle in
 * front of the app, an error inside an event stream). Anything else is an internal error: logged with the
 * request id, never echoed.
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

export type ErrorType =
  | "invalid_request"
  | "invalid_json"
  | "unsupported_media_type"
  | "payload_too_large"
  | "not_found"
  | "conflict"
  | "unprocessable"
  | "timeout"
  | "unauthorized"
  | "forbidden"
  | "rate_limited"
  | "upstream_error"
  | "method_not_allowed"
  | "internal";

export class ApiError extends HTTPException {
  constructor(
    status: ContentfulStatusCode,
    readonly type: ErrorType,
    message: string,
    readonly extra: { headers?: Record<string, string>; param?: string } = {},
  ) {
    super(status, { message });
  }
}

const TYPE_BY_STATUS: Partial<Record<number, ErrorType>> = {
  400: "invalid_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  409: "conflict",
  413: "payload_too_large",
  405: "method_not_allowed",
  415: "unsupported_media_type",
  429: "rate_limited",
};

/** OpenAI's error types for our statuses (what its SDKs map to exception classes by status anyway). */
const OPENAI_TYPE: Partial<Record<ErrorType, string>> = {
  unauthorized: "authentication_error",
  forbidden: "permission_error",
  rate_limited: "rate_limit_error",
  not_found: "not_found_error",
  internal: "server_error",
  upstream_error: "server_error",
  timeout: "timeout_error",
  conflict: "conflict_error",
};

export interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: ErrorType | string };
}

/** The one error body: OpenAI's error type for ours (what its SDKs map to exception classes by status anyway). */
export function errorBody(type: ErrorType, message: string, param?: string | null): ErrorBody {
  return { error: { message, type: OPENAI_TYPE[type] ?? "invalid_request_error", param: param ?? null, code: type } };
}

function body(_c: Context, type: ErrorType, message: string, param?: string): ErrorBody {
  return errorBody(type, message, param);
}

export function renderError(err: Error, c: Context): Response {
  if (err instanceof ApiError)
    return c.json(body(c, err.type, err.message, err.extra.param), err.status, err.extra.headers);
  if (err instanceof HTTPException && err.status < 500) {
    // Hono's own middleware (body limit, ...): keep its status, speak our shape.
    const type = TYPE_BY_STATUS[err.status] ?? "invalid_request";
    return c.json(body(c, type, err.message || `request refused (${err.status})`), err.status);
  }
  const requestId = (c.get("requestId") as string | undefined) ?? crypto.randomUUID();
  console.error(`internal error ${requestId} on ${c.req.method} ${c.req.path}:`, err);
  return c.json(body(c, "internal", `internal error; request id ${requestId}`), 500);
}
