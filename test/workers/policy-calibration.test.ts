/**
 * GET /v1/policy says whether the active policy was calibrated for the configured providers (PROVIDERS is
 * "sim" here: the bundled default world): a policy calibrated for another world's models is reported as not
 * matching, with a response header, and one calibrated for the default world as matching.
 */
import { env, SELF } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { CALIBRATION_HEADER } from "../../src/wiring/calibrationStatus";
import { fingerprintDigest } from "../../src/policy/fingerprint";
import { worldFingerprint } from "../../src/wiring/fingerprint";
import { servicePolicy } from "../../src/policy/shipped";
import { parseWorld } from "../../src/sim/world";
import defaultWorld from "../../worlds/default.json";
import { authedFetch } from "./auth";

const ADMIN = { authorization: "Bearer test-admin-secret", "content-type": "application/json" };
const BASE = "https://ttc.test";

interface PolicyView {
  version: string;
  calibration: {
    matchesProviders: boolean | null;
    calibratedFor: { world?: string } | null;
    configured: { generator: { kind: string; model: string } } | null;
    differences: string[];
    fingerprint: { policy: string | null; configured: string | null };
  };
}

function withCalibration(version: string, worldName: string, skillShift: number) {
  const w = parseWorld(defaultWorld);
  if (!w.ok) throw new Error(w.error);
  const world = { ...w.world, name: worldName, base: { ...w.world.base, skill: w.world.base.skill + skillShift } };
  const calibratedFor = worldFingerprint(world);
  return {
    ...servicePolicy(),
    version,
    calibration: {
      calibratedFor,
      fingerprint: fingerprintDigest(calibratedFor),
      caps: { unit: "tokens", overCap: "failure", budgets: [1000, 4000] },
      headline: null,
    },
  };
}

async function activate(document: unknown): Promise<void> {
  const res = await SELF.fetch(`${BASE}/v1/policy/versions`, {
    method: "POST",
    headers: ADMIN,
    body: JSON.stringify({ document, activate: true }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
}

describe("GET /v1/policy calibration status", () => {
  beforeEach(async () => {
    await env.DB.batch(
      ["policy_active", "policy_events", "policy_versions"].map((t) => env.DB.prepare(`DELETE FROM ${t}`)),
    );
  });

  it("reports a policy calibrated for other models, with a header, and one calibrated for these as matching", async () => {
    await activate(withCalibration("elsewhere-1", "elsewhere", 1));
    const other = await authedFetch(`${BASE}/v1/policy`);
    expect(other.status).toBe(200);
    expect(other.headers.get(CALIBRATION_HEADER)).toBe("mismatch");
    const otherView = (await other.json()) as PolicyView;
    expect(otherView.version).toBe("elsewhere-1");
    expect(otherView.calibration.matchesProviders).toBe(false);
    expect(otherView.calibration.calibratedFor?.world).toBe("elsewhere");
    expect(otherView.calibration.configured?.generator.kind).toBe("sim");
    expect(otherView.calibration.differences[0]).toMatch(/^generator: calibrated for sim elsewhere#/);

    await activate(withCalibration("here-1", "default", 0));
    const same = await authedFetch(`${BASE}/v1/policy`);
    expect(same.headers.get(CALIBRATION_HEADER)).toBeNull();
    const sameView = (await same.json()) as PolicyView;
    expect(sameView.calibration.matchesProviders).toBe(true);
    expect(sameView.calibration.differences).toEqual([]);
    expect(sameView.calibration.fingerprint.policy).toBe(sameView.calibration.fingerprint.configured);
  });

  it("the shipped policy, with nothing activated, was calibrated for the bundled simulated world and says so", async () => {
    const res = await authedFetch(`${BASE}/v1/policy`);
    expect(res.headers.get(CALIBRATION_HEADER)).toBeNull();
    const view = (await res.json()) as PolicyView;
    expect(view.version).toBe(servicePolicy().version);
    expect(view.calibration.matchesProviders).toBe(true);
    expect(view.calibration.calibratedFor?.world).toBe("default");
  });
});
