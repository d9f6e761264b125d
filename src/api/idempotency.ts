/**
 * Idempotency-Key on the routes that start solves. The first request stores the key with its body's
 * fingerprint and the solve's start input, then starts it; a request with the same key and body starts or
 * finds that same solve (the reservation and the Durable Object's start are idempotent per solve id); the
 * same key with another body is a 409. If the first start is refused, the key is removed again, so a
 * refused request leaves nothing behind. Keys expire after a day.
 */
import { and, eq, lt } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import type { Principal } from "../auth/keyStore";
import { idempotencyKeys } from "../db/schema";
import type { StartInput } from "../solve/input";
import { ApiError } from "../errors/apiError";
import type { SolveView } from "./schemas";
import { launchSolve, sessionOf } from "./startSolve";

const TTL_MS = 24 * 60 * 60_000;
const KEY = /^[\x21-\x7e]{1,255}$/;

/** JSON with object keys sorted: the same body in any key order has one fingerprint. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}

export async function fingerprint(body: unknown): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonical(body)));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The Idempotency-Key header, checked; undefined when absent. */
export function idempotencyKeyOf(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (!KEY.test(header))
    throw new ApiError(400, "invalid_request", "Idempotency-Key must be 1 to 255 visible ASCII characters");
  return header;
}

export interface Idempotent {
  key: string;
  /** Separates routes: a key used on /v1/solves and on the chat endpoint names two requests. */
  scope: string;
  fingerprint: string;
}

/** Start the solve `prepare` describes, or with an Idempotency-Key the one that key already started. */
export async function startOnce(
  env: Env,
  principal: Principal,
  idem: Idempotent | undefined,
  prepare: () => Promise<StartInput>,
): Promise<SolveView> {
  if (!idem) return launchSolve(env, principal, await prepare());
  const d = drizzle(env.DB);
  const where = and(
    eq(idempotencyKeys.tenantId, principal.tenantId),
    eq(idempotencyKeys.scope, idem.scope),
    eq(idempotencyKeys.key, idem.key),
  );
  await d.delete(idempotencyKeys).where(and(where, lt(idempotencyKeys.createdAt, Date.now() - TTL_MS)));
  for (let attempt = 0; attempt < 2; attempt++) {
    const [existing] = await d.select().from(idempotencyKeys).where(where).limit(1);
    if (existing) {
      if (existing.fingerprint !== idem.fingerprint) {
        throw new ApiError(
          409,
          "conflict",
          `Idempotency-Key "${idem.key}" was already used with a different request body (solve ${existing.solveId})`,
        );
      }
      // Already started: answer with it (no new reservation). Else the first request is still starting it, or
      // died before it did: start it now, under the same id.
      const found = await sessionOf(env, existing.solveId).status(principal.tenantId);
      if (found.ok) return found.value;
      return launchSolve(env, principal, JSON.parse(existing.startInput) as StartInput);
    }
    const input = await prepare();
    const inserted = await d
      .insert(idempotencyKeys)
      .values({
        tenantId: principal.tenantId,
        scope: idem.scope,
        key: idem.key,
        fingerprint: idem.fingerprint,
        solveId: input.id,
        startInput: JSON.stringify(input),
        createdAt: Date.now(),
      })
      .onConflictDoNothing()
      .returning({ solveId: idempotencyKeys.solveId });
    // Lost a race with the same key: the winner's row decides.
    if (inserted.length === 0) continue;
    try {
      return await launchSolve(env, principal, input);
    } catch (err) {
      await d.delete(idempotencyKeys).where(and(where, eq(idempotencyKeys.solveId, input.id)));
      throw err;
    }
  }
  throw new ApiError(
    409,
    "conflict",
    `Idempotency-Key "${idem.key}" is in use by a request that is still starting; retry`,
  );
}
