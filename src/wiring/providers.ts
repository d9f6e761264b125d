/**
 * The service's providers: the one list of provider kinds, and the providers built from the PROVIDERS
 * variable — "sim" (the bundled default world in process, the zero-configuration default) or JSON naming a kind
 * per role, whose API keys and header values are Worker secrets. This is the composition root: the only
 * production module that imports the simulator. Built once per isolate for a given configuration.
 *
 * To add a provider kind: write its module (a `ProviderKind`, see src/providers/registry.ts) and add it here.
 */
import type { z } from "zod";
import defaultWorld from "../../worlds/default.json";
import type { CostModel } from "../engine/budget";
import type { ProviderSet } from "../engine/executeStep";
import type { StrategySpec } from "../engine/strategies";
import { chatKind } from "../providers/chat";
import { completionsKind } from "../providers/completions";
import { assembleProviders } from "../providers/index";
import { judgeKind } from "../providers/judge";
import { vllmPrmKind } from "../providers/prm";
import {
  kindOf,
  parseProviders,
  providerConfigSchema,
  type ProviderConfig,
  type ProvidersConfig,
} from "../providers/registry";
import type { AdapterContext, GeneratorAdapter, VerifierAdapter } from "../providers/shared";
import { workersAiKind } from "../providers/workersAi";
import { simKind } from "../sim/kind";
import { simProviders } from "../sim/provider";
import { parseWorld } from "../sim/world";

export const PROVIDER_KINDS = [completionsKind, chatKind, vllmPrmKind, judgeKind, workersAiKind, simKind] as const;

/** A provider's configuration as written: its kind and that kind's fields. */
export type ProviderConfigInput = Record<string, unknown>;
/** Every kind's configuration (for docs, tools and tests). */
export const ProviderConfigSchema = providerConfigSchema(PROVIDER_KINDS) as unknown as z.ZodType<
  ProviderConfig,
  ProviderConfigInput
>;
export type { ProviderConfig, ProvidersConfig };

/** Parse PROVIDERS: "sim" or JSON; the error names the offending field (and the allowed values). */
export function parseProvidersConfig(
  raw: string | undefined,
): { ok: true; config: ProvidersConfig | "sim" } | { ok: false; error: string } {
  if (raw === undefined || raw.trim() === "" || raw.trim() === "sim") return { ok: true, config: "sim" };
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return { ok: false, error: 'PROVIDERS is neither "sim" nor valid JSON' };
  }
  return parseProviders(PROVIDER_KINDS, data);
}

/** Parse one provider's configuration (tests, benchmarks); throws naming the field. */
export function parseProviderConfig(role: "generator" | "verifier", data: unknown): ProviderConfig {
  const other = role === "generator" ? "verifier" : "generator";
  const stub = { kind: "sim", model: role === "generator" ? "sim-prm" : "sim-base" };
  const parsed = parseProviders(PROVIDER_KINDS, { [role]: data, [other]: stub });
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.config[role];
}

export function generatorAdapter(name: string, config: ProviderConfig, context: AdapterContext = {}): GeneratorAdapter {
  const kind = kindOf(PROVIDER_KINDS, config);
  if (!kind.generator) throw new Error(`provider ${name} is a ${config.kind} provider and cannot generate`);
  return kind.generator(name, config, context);
}

export function verifierAdapter(name: string, config: ProviderConfig, context: AdapterContext = {}): VerifierAdapter {
  const kind = kindOf(PROVIDER_KINDS, config);
  if (!kind.verifier) throw new Error(`provider ${name} is a ${config.kind} provider and cannot score steps`);
  return kind.verifier(name, config, context);
}

export interface Wired {
  providers: ProviderSet;
  costs: CostModel;
  /** Generator adapters by role, for capability checks before a solve starts. */
  generators: { generator?: GeneratorAdapter; reviser?: GeneratorAdapter; large?: GeneratorAdapter };
}

export type WiredResult = { ok: true; wired: Wired } | { ok: false; error: string };

let cached: { key: string; result: WiredResult } | undefined;

/** `env` is where secrets (`apiKeySecret`, `headers`) and bindings (Workers AI) are looked up: the Worker's env. */
export function providersFromEnv(raw: string | undefined, env: Record<string, unknown>): WiredResult {
  const key = raw ?? "";
  if (cached?.key === key) return cached.result;
  const result = wire(raw, env);
  cached = { key, result };
  return result;
}

export function wire(raw: string | undefined, env: Record<string, unknown>, extra: AdapterContext = {}): WiredResult {
  const parsed = parseProvidersConfig(raw);
  if (!parsed.ok) return parsed;
  try {
    if (parsed.config === "sim") {
      const world = parseWorld(defaultWorld);
      if (!world.ok) return { ok: false, error: world.error };
      const { providers, costs } = simProviders(world.world);
      return { ok: true, wired: { providers, costs, generators: {} } };
    }
    const context: AdapterContext = { secrets: env as Record<string, string | undefined>, bindings: env, ...extra };
    const { generator, verifier, reviser, large } = parsed.config;
    const at = <T>(role: string, build: () => T): T => {
      try {
        return build();
      } catch (err) {
        throw new Error(`PROVIDERS.${role}.${err instanceof Error ? err.message : String(err)}`);
      }
    };
    const generators = {
      generator: at("generator", () => generatorAdapter("generator", generator, context)),
      ...(reviser ? { reviser: at("reviser", () => generatorAdapter("reviser", reviser, context)) } : {}),
      ...(large ? { large: at("large", () => generatorAdapter("large", large, context)) } : {}),
    };
    const wired = assembleProviders({
      ...generators,
      verifier: at("verifier", () => verifierAdapter("verifier", verifier, context)),
    });
    return { ok: true, wired: { ...wired, generators } };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

/** Strategies that extend partial solutions step by step: the generator must continue an assistant prefix. */
const STEPWISE: ReadonlySet<string> = new Set(["beam-search", "dvts"]);

/**
 * Why this strategy cannot run on the configured providers (a 400 before the solve starts), naming the
 * strategy and the provider; undefined when it can.
 */
export function refuseStrategy(wired: Wired, spec: StrategySpec): string | undefined {
  if (!STEPWISE.has(spec.strategy)) return undefined;
  const gen = wired.generators.generator;
  if (!gen || gen.continues) return undefined;
  return `strategy ${spec.strategy} needs a generator that continues a partial solution, and ${gen.label} cannot: use a completions provider, or a chat server with continueFinalMessage (vLLM) or prefill (llama.cpp)`;
}
