/** A solve whose provider keeps failing sends solve.failed, signed, with our words for the failure only. */
import { env, runDurableObjectAlarm, SELF } from "cloudflare:test";
import { Webhook } from "standardwebhooks";
import { expect, it } from "vitest";
import type { SolveView } from "../../src/api/schemas";
import { newTenantKey } from "../workers/auth";
import { driveToEnd } from "../workers/drive";

it("a failed solve's webhook is solve.failed, without the provider's answer", async () => {
  const k = await newTenantKey();
  await fetch("http://sim.test/_sim/faults", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ kind: "500", count: 50, path: "/pooling" }),
  });
  const { secret } = (await (
    await SELF.fetch("https://ttc.test/v1/webhooks/secret", { headers: k.headers })
  ).json()) as { secret: string };
  const res = await SELF.fetch("https://ttc.test/v1/solves", {
    method: "POST",
    headers: k.headers,
    body: JSON.stringify({
      prompt: "Start with 23. Add 58. What is the final number?",
      strategy: { strategy: "best-of-n", n: 4 },
      webhook: { url: "https://hooks.example.com/hook/failed" },
    }),
  });
  const solve = (await res.json()) as SolveView;
  await driveToEnd(solve.id);
  await fetch("http://sim.test/_sim/faults", { method: "DELETE" });
  const stub = env.SOLVE_SESSION.get(env.SOLVE_SESSION.idFromName(solve.id));
  let got: { headers: Record<string, string>; body: string }[] = [];
  for (let i = 0; i < 50 && got.length === 0; i++) {
    await runDurableObjectAlarm(stub);
    got = (await (await fetch("https://hooks.example.com/_log/failed")).json()) as typeof got;
  }
  const event = new Webhook(secret).verify(got[0]!.body, got[0]!.headers) as { type: string; data: SolveView };
  expect(event.type).toBe("solve.failed");
  expect(event.data.stopReason).toBe("failed");
  expect(event.data.detail).toMatch(
    /^provider error: provider verifier \(vllm-prm, model sim-prm\): HTTP 500 \(the provider's answer is in the service log\)$/,
  );
  expect(got[0]!.body).not.toMatch(/simulated/);
});
