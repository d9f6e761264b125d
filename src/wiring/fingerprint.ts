/**
 * What a simulated world or a PROVIDERS configuration fingerprints to (src/policy/fingerprint.ts): the policy
 * layer knows fingerprints, the wiring knows worlds and provider configurations.
 */
import { hashString } from "../engine/random";
import type { CalibratedFor } from "../policy/fingerprint";
import type { World } from "../sim/world";
import type { ProviderConfig, ProvidersConfig } from "./providers";

/** A simulated world's models: kind `sim`, named by the world and a hash of all its knobs (a copy renamed or tweaked differs). */
export function worldFingerprint(world: World): CalibratedFor {
  const tag = `${world.name}#${hashString(JSON.stringify(world)).toString(16).padStart(8, "0")}`;
  return {
    world: world.name,
    generator: { kind: "sim", model: `${tag}/base` },
    verifier: { kind: "sim", model: `${tag}/verifier` },
    reviser: { kind: "sim", model: `${tag}/reviser` },
    large: { kind: "sim", model: `${tag}/large` },
  };
}

/** The configured providers' fingerprint; "sim" is the bundled world the service runs in process. */
export function providersFingerprint(config: ProvidersConfig | "sim", simWorld: World): CalibratedFor {
  if (config === "sim") return worldFingerprint(simWorld);
  // The server kind is part of what was measured (fan-out changes samples and cost): vllm-prm on tgi is another setup.
  const role = (c: ProviderConfig) => ({
    kind: typeof c.server === "string" ? `${c.kind}:${c.server}` : c.kind,
    model: typeof c.model === "string" ? c.model : c.kind,
  });
  return {
    generator: role(config.generator),
    verifier: role(config.verifier),
    ...(config.reviser ? { reviser: role(config.reviser) } : {}),
    ...(config.large ? { large: role(config.large) } : {}),
  };
}
