/**
 * The Worker's entry: the HTTP routes (`app.ts`), the cron trigger, and the Durable Object classes.
 */
import { SolveSession } from "../src/durable/SolveSession";
import { scheduledRetune } from "../src/policyVersions/retuneJob";
import { KeyQuota } from "../src/quota/KeyQuota";
import { app } from "./app";

export { KeyQuota, SolveSession };

export default {
  fetch: app.fetch,
  /**
   * The cron trigger (wrangler.toml): re-tune each tenant's own policy that has enough new labelled outcomes
   * (a bounded number per run), then the global one from trusted tenants (docs/policy-isolation.md).
   */
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(
      scheduledRetune(env).then(
        (r) => {
          for (const t of r.tenants) console.log(JSON.stringify({ event: "policy.retune", ...t }));
          console.log(JSON.stringify({ event: "policy.retune", ...r.global }));
        },
        (err: unknown) => console.error(`policy re-tune failed: ${err instanceof Error ? err.stack : String(err)}`),
      ),
    );
  },
} satisfies ExportedHandler<Env>;
