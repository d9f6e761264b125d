/**
 * Errors as the API answers them: `{"error": {"type", "message"}}`. Handlers and middleware throw
 * `ApiError` (an HTTPException, so Hono's own middleware composes with it); one handler renders every
 * error. Anything else is an internal error: logged with a request id, never echoed to the client.
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

export type ErrorType = "invalid_request" | "invalid_json" | "unsupported_media_type" | "payload_too_large" | "not_found" | "conflict" | "timeout" | "unauthorized" | "internal";

export class ApiError extends HTTPException {
  constructor(
    status: ContentfulStatusCode,
    readonly type: ErrorType,
    message: string,
  ) {
    super(status, { message });
  }
}

const TYPE_BY_STATUS: Partial<Record<number, ErrorType>> = { 400: "invalid_request", 401: "unauthorized", 404: "not_found", 409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type" };

export function renderError(err: Error, c: Context): Response {
  if (err instanceof ApiError) return c.json({ error: { type: err.type, message: err.message } }, err.status);
  if (err instanceof HTTPException && err.status < 500) {
    // Hono's own middleware (bearer auth, body limit, ...): keep its status, speak our shape.
    const type = TYPE_BY_STATUS[err.status] ?? "invalid_request";
    return c.json({ error: { type, message: err.message || `request refused (${err.status})` } }, err.status);
  }
  const requestId = crypto.randomUUID();
  console.error(`internal error ${requestId} on ${c.req.method} ${c.req.path}:`, err);
  return c.json({ error: { type: "internal", message: `internal error; request id ${requestId}` } }, 500);
}
