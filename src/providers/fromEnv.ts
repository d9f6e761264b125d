/**
 * The service's providers from its PROVIDERS variable: "sim" (the bundled default world in process, the
 * zero-configuration default) or JSON naming remote adapters, whose API keys are Worker secrets. Built once
 * per isolate for a given configuration: building is pure, and every request and Durable Object needs it.
 */
import defaultWorld from "../../worlds/default.json";
import type { CostModel } from "../engine/budget";
import type { ProviderSet } from "../engine/step";
import { simProviders } from "../sim/provider";
import { parseWorld } from "../sim/world";
import { parseProvidersConfig } from "./config";
import { assembleProviders, generatorAdapter, verifierAdapter } from "./index";

export interface Wired {
  providers: ProviderSet;
  costs: CostModel;
}

export type WiredResult = { ok: true; wired: Wired } | { ok: false; error: string };

let cached: { key: string; result: WiredResult } | undefined;

/** `secrets` is where `apiKeySecret` names are looked up (the Worker's env). */
export function providersFromEnv(raw: string | undefined, secrets: Record<string, unknown>): WiredResult {
  const key = raw ?? "";
  if (cached?.key === key) return cached.result;
  const result = wire(raw, secrets);
  cached = { key, result };
  return result;
}

function wire(raw: string | undefined, secrets: Record<string, unknown>): WiredResult {
  const parsed = parseProvidersConfig(raw);
  if (!parsed.ok) return parsed;
  try {
    if (parsed.config === "sim") {
      const world = parseWorld(defaultWorld);
      if (!world.ok) return { ok: false, error: world.error };
      const { providers, costs } = simProviders(world.world);
      return { ok: true, wired: { providers, costs } };
    }
    const context = { secrets: secrets as Record<string, string | undefined> };
    const { generator, verifier, reviser, large } = parsed.config;
    const wired = assembleProviders({
      generator: generatorAdapter("generator", generator, context),
      verifier: verifierAdapter("verifier", verifier, context),
      ...(reviser ? { reviser: generatorAdapter("reviser", reviser, context) } : {}),
      ...(large ? { large: generatorAdapter("large", large, context) } : {}),
    });
    return { ok: true, wired };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}
