/**
 * Which shipped policy the service's `auto` chooses with: the `POLICY` var names a file in policies/ —
 * `default-text` (the text-only policy in tokens, decided at the edge; the default), `default` (the policy that
 * runs a verifier probe of k samples as the solve's first step and chooses after it), or `default-escalation`
 * (text-only, fitted in dollars with the larger model among its arms: for providers that configure one).
 * Validated once per isolate. The document flows from here into the solve's start input: the Durable Object
 * never reads policy files.
 */
import escalation from "../../policies/default-escalation.json";
import probing from "../../policies/default.json";
import { parsePolicy, type PolicyDocument } from "./document";
import { servicePolicy } from "./shipped";

export const SHIPPED_POLICY_NAMES = ["default-text", "default", "default-escalation"] as const;

const parsed = new Map<string, PolicyDocument>();

function shipped(name: string, data: unknown): PolicyDocument {
  const known = parsed.get(name);
  if (known) return known;
  const r = parsePolicy(data);
  if (!r.ok) throw new Error(`policies/${name}.json: ${r.error}`);
  parsed.set(name, r.policy);
  return r.policy;
}

/** The policy the `POLICY` var names (unset or empty: `default-text`). An unknown name is the operator's error. */
export function configuredPolicy(env: { POLICY?: string }): PolicyDocument {
  const name = env.POLICY?.trim() || "default-text";
  if (name === "default-text") return servicePolicy();
  if (name === "default") return shipped(name, probing);
  if (name === "default-escalation") return shipped(name, escalation);
  throw new Error(`POLICY: no shipped policy "${name}" (one of ${SHIPPED_POLICY_NAMES.join(", ")})`);
}
