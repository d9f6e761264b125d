/**
 * Projects whose tests run inside workerd with real D1 and Durable Objects (the Cloudflare Vitest
 * integration). No test reaches the network: outbound requests go to the simulated world's HTTP server,
 * served in process, or are refused.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import type { TestProjectInlineConfiguration } from "vitest/config";
import { parseWorld } from "./src/sim/world";
import { createSimServer, SIM_FLAVORS, type SimFlavor } from "./src/sim/server";
import { webhookWorld } from "./test/support/webhookReceiver";

const root = fileURLToPath(new URL(".", import.meta.url));

/** The host name under which tests reach the simulated world over HTTP. */
export const SIM_HOST = "http://sim.test";

function simApp(flavor: SimFlavor = "vllm", usage = true) {
  const world = parseWorld(JSON.parse(readFileSync(`${root}/worlds/default.json`, "utf8")));
  if (!world.ok) throw new Error(world.error);
  return createSimServer(world.world, { latency: { perCallMs: 0, perTokenMs: 0 }, stallMs: 1500, flavor, usage });
}

/** Each server flavor of the simulated world at `http://<flavor>.sim.test` (and one without usage). */
function flavoredSims(): Map<string, { fetch: (r: Request) => Response | Promise<Response> }> {
  const sims = new Map<string, { fetch: (r: Request) => Response | Promise<Response> }>();
  for (const flavor of SIM_FLAVORS) sims.set(`http://${flavor}.sim.test`, simApp(flavor));
  sims.set("http://nousage.sim.test", simApp("vllm", false));
  return sims;
}

// The timeout is short so that timeout faults are quick to test, and long enough that a call the tests delay on
// purpose (up to 600 ms) does not time out on a loaded machine.
const card = { parameters: 3e9, inputPricePerMillion: 0.1, outputPricePerMillion: 0.2, timeoutMs: 1500, retries: 3 };

/** PROVIDERS for the HTTP project: completions generator and pooling PRM on the simulated world. */
export const HTTP_PROVIDERS = JSON.stringify({
  generator: { kind: "openai-completions", baseUrl: SIM_HOST, model: "sim-base", ...card },
  verifier: { kind: "vllm-prm", baseUrl: SIM_HOST, model: "sim-prm", ...card, parameters: 7e9 },
});

async function project(
  name: string,
  include: string[],
  extra: { bindings?: Record<string, unknown>; viaSim?: boolean; sequential?: boolean },
): Promise<TestProjectInlineConfiguration> {
  const migrations = await readD1Migrations(`${root}/migrations`);
  const sim = extra.viaSim ? simApp() : undefined;
  const flavored = extra.viaSim ? flavoredSims() : undefined;
  const world = webhookWorld();
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: `${root}/wrangler.toml` },
        // The [ai] binding is remote-only: tests never reach Cloudflare (Workers AI is tested with a fake binding).
        remoteBindings: false,
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            ADMIN_SECRET: "test-admin-secret",
            AUTO_EXPLORATION: "0",
            CORS_ORIGINS: "https://app.example, https://other.example",
            ...extra.bindings,
          },
          outboundService: async (request: Request) => {
            if (sim && request.url.startsWith(SIM_HOST)) return sim.fetch(request);
            const origin = new URL(request.url).origin;
            const flavoredSim = flavored?.get(origin);
            if (flavoredSim) return flavoredSim.fetch(request);
            const answered = await world(request);
            if (answered) return answered;
            return new Response("outbound network access is disabled in tests", { status: 503 });
          },
        },
      }),
    ],
    test: {
      name,
      include,
      setupFiles: ["test/workers/apply-migrations.ts"],
      testTimeout: 60_000,
      // The simulated world's HTTP server (its faults and billing counters) is one for the whole project.
      ...(extra.sequential ? { fileParallelism: false } : {}),
    },
  };
}

export async function workersProjects(): Promise<TestProjectInlineConfiguration[]> {
  return [
    // The attack suite (test/security) runs here too: the same Worker, D1 and Durable Objects.
    await project("workers", ["test/workers/**/*.test.ts", "test/security/**/*.test.ts"], {
      // The security fuzz's request count: `npm run fuzz` asks for 10,000.
      bindings: { FUZZ_REQUESTS: process.env.FUZZ_REQUESTS ?? "2000" },
    }),
    // Eight provider requests per invocation (two calls with their retries): steps run across several alarms.
    await project("workers-http", ["test/workers-http/**/*.test.ts"], {
      // Synchronous answers start their keepalive body after 300 ms, so the SDK reads whitespace-led JSON here.
      bindings: {
        PROVIDERS: HTTP_PROVIDERS,
        SUBREQUESTS_PER_INVOCATION: "8",
        SYNC_KEEPALIVE_MS: "300",
        SSE_HEARTBEAT_MS: "150",
      },
      viaSim: true,
      sequential: true,
    }),
  ];
}
