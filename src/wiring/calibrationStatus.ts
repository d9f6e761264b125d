/**
 * Whether the active policy was calibrated for the providers this deployment configures (issue 20): a policy's
 * arms are compute-optimal only for the models they were measured on. `GET /v1/policy` reports it, and while
 * they differ the service logs a warning and marks its policy responses with a header.
 */
import { z } from "zod";
import defaultWorld from "../../worlds/default.json";
import { parseProvidersConfig } from "./providers";
import { parseWorld, type World } from "../sim/world";
import { providersFingerprint } from "./fingerprint";
import { CalibrationHeadlineSchema, type PolicyDocument } from "../policy/document";
import { CalibratedForSchema, fingerprintDifferences, fingerprintDigest } from "../policy/fingerprint";

/** The header set on policy responses while the active policy was calibrated for other providers. */
export const CALIBRATION_HEADER = "X-Policy-Calibration";

export const CalibrationStatusSchema = z.object({
  /** true: same server kinds and models; false: they differ; null: the policy records no fingerprint. */
  matchesProviders: z.boolean().nullable(),
  calibratedFor: CalibratedForSchema.nullable(),
  configured: CalibratedForSchema.nullable(),
  /** Per provider role that differs, what the policy was calibrated for and what is configured. */
  differences: z.array(z.string()),
  fingerprint: z.object({ policy: z.string().nullable(), configured: z.string().nullable() }),
  /** The held-out headline the calibration measured (src/eval/headline.ts), when it recorded one. */
  headline: CalibrationHeadlineSchema.nullable(),
});
export type CalibrationStatus = z.output<typeof CalibrationStatusSchema>;

let bundled: World | undefined;
function bundledWorld(): World {
  if (bundled) return bundled;
  const w = parseWorld(defaultWorld);
  if (!w.ok) throw new Error(`worlds/default.json: ${w.error}`);
  bundled = w.world;
  return bundled;
}

/** The active policy's fingerprint against the PROVIDERS configuration (the service's "sim" is the bundled world). */
export function calibrationStatus(policy: PolicyDocument, providersRaw: string | undefined): CalibrationStatus {
  const parsed = parseProvidersConfig(providersRaw);
  const configured = parsed.ok ? providersFingerprint(parsed.config, bundledWorld()) : null;
  const calibratedFor = policy.calibration?.calibratedFor ?? null;
  const differences =
    calibratedFor && configured
      ? fingerprintDifferences(calibratedFor, configured)
      : calibratedFor
        ? ["the configured providers do not parse"]
        : [];
  return {
    matchesProviders: calibratedFor ? differences.length === 0 : null,
    calibratedFor,
    configured,
    differences,
    fingerprint: {
      policy: calibratedFor ? fingerprintDigest(calibratedFor) : null,
      configured: configured ? fingerprintDigest(configured) : null,
    },
    headline: policy.calibration?.headline ?? null,
  };
}
