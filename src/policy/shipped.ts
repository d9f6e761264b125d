/**
 * The policy the service's `auto` chooses with: the text-only policy calibrated on the default simulated
 * world (`npm run calibrate -- --probe 0`, policies/default-text.json), validated once per isolate. It needs
 * no provider call, so the edge decides before the solve exists.
 */
import shipped from "../../policies/default-text.json";
import { parsePolicy, type PolicyDocument } from "./document";

let cached: PolicyDocument | undefined;

export function servicePolicy(): PolicyDocument {
  if (cached) return cached;
  const r = parsePolicy(shipped);
  if (!r.ok) throw new Error(`policies/default-text.json: ${r.error}`);
  cached = r.policy;
  return cached;
}
