/** Tests that run inside workerd with real D1 and Durable Objects (the Cloudflare Vitest integration). */
import { fileURLToPath } from "node:url";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineProject } from "vitest/config";

const root = fileURLToPath(new URL(".", import.meta.url));

export default defineProject(async () => {
  const migrations = await readD1Migrations(`${root}/migrations`);
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: `${root}/wrangler.toml` },
        miniflare: {
          bindings: { TEST_MIGRATIONS: migrations },
          // No test may reach the network.
          outboundService: () => new Response("outbound network access is disabled in tests", { status: 503 }),
        },
      }),
    ],
    test: {
      name: "workers",
      include: ["test/workers/**/*.test.ts"],
      setupFiles: ["test/workers/apply-migrations.ts"],
      testTimeout: 60_000,
    },
  };
});
