/** A quota refusal as the API answers it: 429 with Retry-After and a message naming the limit. */
import { ApiError } from "../errors/apiError";
import type { QuotaRefusal } from "./KeyQuota";

export function quotaRefused(r: QuotaRefusal): ApiError {
  return new ApiError(429, "rate_limited", `${r.message}; retry after ${r.retryAfterSeconds} s`, {
    headers: { "Retry-After": String(r.retryAfterSeconds) },
  });
}
