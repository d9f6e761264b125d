/** A webhook URL a solve names, checked before anything is stored: the SSRF guard, and not disabled. */
import { ApiError } from "../errors/apiError";
import { webhooksAllowLocal } from "./dispatcher";
import { checkWebhookUrl } from "./ssrf";
import { endpointDisabled } from "./store";

export async function checkDestination(env: Env, tenantId: string, url: string): Promise<void> {
  const verdict = checkWebhookUrl(url, { allowLocal: webhooksAllowLocal(env) });
  if (!verdict.ok) throw new ApiError(400, "invalid_request", `webhook.url: ${verdict.reason}`);
  const disabled = await endpointDisabled(env.DB, tenantId, url);
  if (disabled) {
    throw new ApiError(
      400,
      "invalid_request",
      `webhook.url: this endpoint was disabled after it answered 410 Gone (${new Date(disabled.disabledAt).toISOString()}); enable it again with POST /v1/webhooks/endpoints/enable`,
    );
  }
}
