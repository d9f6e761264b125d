import { env, runDurableObjectAlarm } from "cloudflare:test";
import type { SolveView } from "../../src/api/schemas";

/**
 * Run a solve to its end. Alarms also fire on their own in the test runtime, so this runs them when they
 * are due and otherwise waits, until the solve reports done.
 */
export async function driveToEnd(id: string, timeoutMs = 30_000): Promise<SolveView> {
  const stub = env.SOLVE_SESSION.get(env.SOLVE_SESSION.idFromName(id));
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ran = await runDurableObjectAlarm(stub);
    const status = await stub.status();
    if (!status.ok) throw new Error(`solve ${id}: ${status.error}`);
    if (status.value.status === "done") return status.value;
    if (Date.now() > until) throw new Error(`solve ${id} did not finish within ${timeoutMs} ms`);
    if (!ran) await new Promise((r) => setTimeout(r, 5));
  }
}
