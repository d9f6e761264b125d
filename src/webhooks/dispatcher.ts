/**
 * Delivering a solve's webhooks from its outbox: one attempt per due message, its outcome written to the
 * outbox first (the durable record of what is left to send) and then to the D1 log. A destination that
 * answered 410 is disabled for the tenant, and nothing more is sent to it.
 */
import type { SolveView } from "../solve/schemas";
import { attemptDelivery } from "./deliver";
import type { Outbox, OutboxEntry } from "./outbox";
import { dohResolver, type Resolver } from "./resolve";
import { nextStep, type AttemptOutcome } from "./schedule";
import {
  createDelivery,
  disableEndpoint,
  endpointDisabled,
  recordAttempt,
  signingSecrets,
  tenantSecrets,
} from "./store";

const OUR_FAULT_RETRY_MS = 60_000;

export function webhooksAllowLocal(env: Env): boolean {
  return env.WEBHOOKS_ALLOW_LOCAL === "true";
}

export function messageId(solveId: string): string {
  return `msg_${solveId}`;
}

export class WebhookDispatcher {
  constructor(
    private readonly env: Env,
    private readonly outbox: Outbox,
    private readonly resolve: Resolver = dohResolver(),
  ) {}

  /** The solve's completion message: logged in D1 as pending, then queued for an attempt now. */
  async enqueue(tenantId: string, url: string, view: SolveView, now = Date.now()): Promise<void> {
    const id = messageId(view.id);
    const type = view.stopReason === "failed" ? "solve.failed" : "solve.completed";
    const body = JSON.stringify({ type, timestamp: new Date(now).toISOString(), data: view });
    await createDelivery(this.env.DB, {
      id,
      tenantId,
      solveId: view.id,
      url,
      eventType: type,
      payload: body,
      status: "pending",
      attempts: 0,
      nextAttemptAt: now,
      createdAt: now,
      updatedAt: now,
    });
    this.outbox.put({ id, url, body, attempts: 0, nextAt: now });
  }

  /**
   * Attempt every due message once. An attempt that fails on our side (D1 unavailable, say) is not counted
   * against the message: it is tried again a minute later.
   */
  async deliverDue(tenantId: string, now = Date.now()): Promise<void> {
    for (const entry of this.outbox.due(now)) {
      try {
        await this.attempt(tenantId, entry);
      } catch (err) {
        console.error(`webhook ${entry.id}: attempt failed on our side, trying again in a minute:`, err);
        this.outbox.put({ ...entry, nextAt: Date.now() + OUR_FAULT_RETRY_MS });
      }
    }
  }

  private async attempt(tenantId: string, entry: OutboxEntry): Promise<void> {
    const at = Date.now();
    let outcome: AttemptOutcome;
    if (await endpointDisabled(this.env.DB, tenantId, entry.url)) {
      outcome = { kind: "refused", reason: "the endpoint was disabled after it answered 410 Gone" };
    } else {
      const secrets = await tenantSecrets(this.env.DB, tenantId, at);
      if (!secrets) throw new Error(`tenant ${tenantId} has no record`);
      outcome = await attemptDelivery({ id: entry.id, url: entry.url, body: entry.body }, signingSecrets(secrets), {
        resolve: this.resolve,
        guard: { allowLocal: webhooksAllowLocal(this.env) },
        now: Date.now,
      });
    }
    const attempts = entry.attempts + 1;
    const next = nextStep(outcome, attempts, Date.now());
    if (next.kind === "retry") this.outbox.put({ ...entry, attempts, nextAt: next.at });
    else this.outbox.remove(entry.id);
    const statusCode = "status" in outcome ? outcome.status : undefined;
    const error =
      outcome.kind === "refused"
        ? `refused: ${outcome.reason}`
        : outcome.kind === "failed"
          ? outcome.error
          : outcome.kind === "gone"
            ? "answered 410 Gone: endpoint disabled"
            : undefined;
    // The outbox has the outcome; the D1 records follow, and their failure must not send the message again.
    try {
      if (outcome.kind === "gone") await disableEndpoint(this.env.DB, tenantId, entry.url, entry.id, at);
      await recordAttempt(this.env.DB, {
        deliveryId: entry.id,
        attempt: attempts,
        at,
        statusCode,
        error,
        status: next.kind === "retry" ? "pending" : next.status,
        nextAttemptAt: next.kind === "retry" ? next.at : null,
      });
    } catch (err) {
      console.error(`webhook ${entry.id}: recording attempt ${attempts} in D1 failed:`, err);
    }
  }
}
