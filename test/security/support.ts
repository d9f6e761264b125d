/** Shared by the attack suite: requests through the Worker, the error shape, and the webhook test doubles. */
import { env, runDurableObjectAlarm, SELF } from "cloudflare:test";
import { expect } from "vitest";
import type { TestKey } from "../workers/auth";

export const BASE = "https://ttc.test";
export const PROBLEM = "Start with 48. Add 17. Multiply by 6. Subtract 129. Divide by 3. What is the final number?";
export const HOOKS = "https://hooks.example.com";
export const ADMIN = { authorization: `Bearer ${env.ADMIN_SECRET}`, "content-type": "application/json" };

/** A request with the key's headers (and a client address, so throttling tests do not share one). */
export function api(k: TestKey | null, path: string, init: RequestInit = {}, ip = "198.51.100.1"): Promise<Response> {
  return SELF.fetch(`${BASE}${path}`, {
    ...init,
    headers: {
      "content-type": "application/json",
      "cf-connecting-ip": ip,
      ...(k ? k.headers : {}),
      ...(init.headers as Record<string, string>),
    },
  });
}

export function postSolve(k: TestKey, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return api(k, "/v1/solves", {
    method: "POST",
    headers,
    body: JSON.stringify({ prompt: PROBLEM, strategy: { strategy: "best-of-n", n: 2 }, ...body }),
  });
}

/**
 * The API's error shape, as it holds today and under OpenAI's (`{"error": {"message", "type", "param",
 * "code"}}`): an `error` object with a non-empty message and a string type or code, no stack trace.
 */
export function expectErrorShape(text: string, context = ""): { message: string; type?: string; code?: string } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`error body is not JSON (${context}): ${text.slice(0, 200)}`);
  }
  const err = (body as { error?: Record<string, unknown> }).error;
  expect(err, context).toBeTypeOf("object");
  expect(typeof err!.message, context).toBe("string");
  expect((err!.message as string).length, context).toBeGreaterThan(0);
  expect(typeof err!.type === "string" || typeof err!.code === "string", context).toBe(true);
  expect(err!.message as string, context).not.toMatch(/\n\s+at |\.ts:\d+/);
  return err as { message: string; type?: string; code?: string };
}

export type Delivery = { id: string; status: string; attempts: number; lastError: string | null };

export async function delivery(k: TestKey, solveId: string): Promise<Delivery> {
  return (await (await api(k, `/v1/webhooks/deliveries/msg_${solveId}`)).json()) as Delivery;
}

/** Run the solve's alarms until its delivery has made `attempts` attempts. */
export async function attempted(k: TestKey, solveId: string, attempts = 1): Promise<Delivery> {
  const stub = env.SOLVE_SESSION.get(env.SOLVE_SESSION.idFromName(solveId));
  // Alarms also run on their own: when none is due here, one may be running; wait for it.
  for (const until = Date.now() + 15_000; Date.now() < until;) {
    const d = await delivery(k, solveId);
    if (d.attempts >= attempts) return d;
    if (!(await runDurableObjectAlarm(stub))) await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`delivery of ${solveId} did not reach ${attempts} attempts`);
}

export async function outbound(): Promise<string[]> {
  return (await (await fetch(`${HOOKS}/_outbound`)).json()) as string[];
}

export async function script(name: string, statuses: number[]): Promise<void> {
  await fetch(`${HOOKS}/_script/${name}`, { method: "POST", body: JSON.stringify({ statuses }) });
}
