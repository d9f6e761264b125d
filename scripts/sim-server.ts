/**
 * npm run sim-server -- [--world FILE] [--port N] [--latency-call-ms N] [--latency-token-ms N] [--stall-ms N]
 *                        [--flavor vllm|sglang|tgi|ollama|llamacpp] [--no-usage]
 *
 * Serves the simulated world over HTTP with the real wire formats: /v1/completions, /v1/chat/completions
 * (models sim-base, sim-large, sim-reviser), /pooling (model sim-prm), /v1/models; fault injection with the
 * x-sim-fault header or POST /_sim/faults.
 */
import { serve } from "@hono/node-server";
import { parseArgs } from "node:util";
import { InputError, loadWorld } from "../src/eval/io";
import { createSimServer, SIM_FLAVORS, type SimFlavor } from "../src/sim/server";

function num(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+(\.\d+)?$/.test(value)) throw new InputError(`--${name} must be a non-negative number, got "${value}"`);
  return Number(value);
}

try {
  const { values } = parseArgs({
    options: {
      world: { type: "string" },
      port: { type: "string" },
      "latency-call-ms": { type: "string" },
      "latency-token-ms": { type: "string" },
      "stall-ms": { type: "string" },
      flavor: { type: "string" },
      "no-usage": { type: "boolean" },
    },
    strict: true,
  });
  const world = loadWorld(values.world);
  const port = num("port", values.port) ?? 8788;
  const perCallMs = num("latency-call-ms", values["latency-call-ms"]);
  const perTokenMs = num("latency-token-ms", values["latency-token-ms"]);
  const stallMs = num("stall-ms", values["stall-ms"]);
  const flavor = values.flavor ?? "vllm";
  if (!(SIM_FLAVORS as readonly string[]).includes(flavor))
    throw new InputError(`--flavor must be one of ${SIM_FLAVORS.join(", ")}, got "${flavor}"`);
  const app = createSimServer(world, {
    latency: { perCallMs: perCallMs ?? world.latency.perCallMs, perTokenMs: perTokenMs ?? world.latency.perTokenMs },
    ...(stallMs !== undefined ? { stallMs } : {}),
    flavor: flavor as SimFlavor,
    usage: values["no-usage"] !== true,
  });
  serve({ fetch: app.fetch, port, hostname: "127.0.0.1" }, (info) => {
    process.stdout.write(
      `simulated world "${world.name}" as ${flavor} on http://127.0.0.1:${info.port} (models sim-base, sim-large, sim-reviser, sim-prm)\n`,
    );
  });
} catch (err) {
  process.stderr.write(`sim-server: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}\n`);
  process.exit(2);
}
