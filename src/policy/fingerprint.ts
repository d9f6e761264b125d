/**
 * What a policy was calibrated for: per provider role, the server kind and model. A policy's arms are only
 * compute-optimal for the models they were measured on (issue 20: the shipped policy run on other models lost
 * up to 3.7 points), so the service compares this with its configured providers and says when they differ.
 * Pure (no Node API): the Worker uses it. What a world or a PROVIDERS value fingerprints to is src/wiring/fingerprint.ts.
 */
import { z } from "zod";
import { hashString } from "../engine/random";

const RoleSchema = z.strictObject({ kind: z.string().min(1), model: z.string().min(1) });

export const CalibratedForSchema = z.strictObject({
  /** The simulated world's name, when calibrated in process on one. */
  world: z.string().optional(),
  generator: RoleSchema,
  verifier: RoleSchema,
  reviser: RoleSchema.optional(),
  large: RoleSchema.optional(),
});
export type CalibratedFor = z.output<typeof CalibratedForSchema>;

export const ROLES = ["generator", "verifier", "reviser", "large"] as const;

/** A short stable digest of a fingerprint, for logs and headers. */
export function fingerprintDigest(f: CalibratedFor): string {
  const roles = ROLES.map((r) => (f[r] ? `${r}=${f[r].kind}:${f[r].model}` : "")).join("|");
  return hashString(roles).toString(16).padStart(8, "0");
}

/**
 * The roles whose server kind or model differ between what the policy was calibrated for and what is
 * configured. A role the policy was calibrated with but the deployment lacks differs; a configured role the
 * calibration did not have does not (the policy never sends work to it).
 */
export function fingerprintDifferences(calibrated: CalibratedFor, configured: CalibratedFor): string[] {
  const out: string[] = [];
  for (const r of ROLES) {
    const a = calibrated[r];
    if (!a) continue;
    const b = configured[r];
    if (!b) out.push(`${r}: calibrated for ${a.kind} ${a.model}, none configured`);
    else if (a.kind !== b.kind || a.model !== b.model)
      out.push(`${r}: calibrated for ${a.kind} ${a.model}, configured ${b.kind} ${b.model}`);
  }
  return out;
}
