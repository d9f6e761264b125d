/**
 * npm run sim-server -- [--world FILE] [--port N] [--latency-call-ms N] [--latency-token-ms N] [--stall-ms N]
 *                        [--flavor vllm|sglang|tgi|ollama|llamacpp] [--no-usage]
 *
 * Serves the simulated world over HTTP with the real wire formats: /v1/completions, /v1/chat/completions
 * (models sim-base, sim-large, sim-reviser), /pooling (model sim-prm), /v1/models; fault injection with the
 * x-sim-fault header or POST /_sim/faults.
 */
import { serve } from "@hono/node-server";
import { loadWorld } from "../src/eval/io";
import { createSimServer, SIM_FLAVORS, type SimFlavor } from "../src/sim/server";
import { command, InputError, pick, runMain } from "./cli";

function num(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+(\.\d+)?$/.test(value)) throw new InputError(`--${name} must be a non-negative number, got "${value}"`);
  return Number(value);
}

export const simServerCommand = command({
  name: "sim-server",
  summary:
    "Serves the simulated world over HTTP with the real wire formats (OpenAI completions and chat, vLLM pooling).",
  options: {
    ...pick("world"),
    port: { type: "string", arg: "N", help: "the port on 127.0.0.1 (default 8788)" },
    "latency-call-ms": { type: "string", arg: "N", help: "latency per call (default: the world's)" },
    "latency-token-ms": { type: "string", arg: "N", help: "latency per token (default: the world's)" },
    "stall-ms": { type: "string", arg: "N", help: "how long a stall fault stalls" },
    flavor: {
      type: "string",
      arg: "NAME",
      help: `the server to impersonate: ${SIM_FLAVORS.join(", ")} (default vllm)`,
    },
    "no-usage": { type: "boolean", help: "answer without token usage, as some servers do" },
  },
  run(values) {
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
  },
});

runMain(import.meta.url, simServerCommand, { keepAlive: true });
