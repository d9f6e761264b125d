/**
 * Which shipped policy the service's `auto` chooses with: the `POLICY` var names a file in policies/ —
 * `default-text` (the text-only policy, decided at the edge; the default) or `default` (the policy that runs a
 * verifier probe of k samples as the solve's first step and chooses after it). Validated once per isolate.
 * The document flows from here into the solve's start input: the Durable Object never reads policy files.
 */
import probing from "../../policies/default.json";
import { parsePolicy, type PolicyDocument } from "./document";
import { servicePolicy } from "./shipped";

export const SHIPPED_POLICY_NAMES = ["default-text", "default"] as const;

let probingPolicy: PolicyDocument | undefined;

function shippedProbingPolicy(): PolicyDocument {
  if (probingPolicy) return probingPolicy;
  const r = parsePolicy(probing);
  if (!r.ok) throw new Error(`policies/default.json: ${r.error}`);
  probingPolicy = r.policy;
  return probingPolicy;
}

/** The policy the `POLICY` var names (unset or empty: `default-text`). An unknown name is the operator's error. */
export function configuredPolicy(env: { POLICY?: string }): PolicyDocument {
  const name = env.POLICY?.trim() || "default-text";
  if (name === "default-text") return servicePolicy();
  if (name === "default") return shippedProbingPolicy();
  throw new Error(`POLICY: no shipped policy "${name}" (one of ${SHIPPED_POLICY_NAMES.join(", ")})`);
}
