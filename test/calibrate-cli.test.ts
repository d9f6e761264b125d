/**
 * npm run calibrate as a user runs it: bad input is refused with exit code 2, one line and nothing written;
 * a small calibration writes a policy that validates, whose arms are configurations it measured, and with
 * two seeds a report of the held-out measurement. Each case runs the command's main in process.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { calibrateCommand } from "../scripts/calibrate";
import { runCommand, type CliRun } from "./support/cli";
import { afterAll, describe, expect, it } from "vitest";
import { parsePolicy } from "../src/policy/document";
import { choosePolicyArm } from "../src/policy/choose";
import { imputedProbe } from "../src/policy/probeStep";

const REPO = fileURLToPath(new URL("..", import.meta.url));
const TMP = mkdtempSync(join(tmpdir(), "calibrate-cli-test-"));

afterAll(() => rmSync(TMP, { recursive: true, force: true }));

function calibrate(args: string[]): Promise<CliRun> {
  return runCommand(calibrateCommand, args);
}

const SMALL = [
  "--problems",
  "40",
  "--oracle-samples",
  "16",
  "--budgets",
  "1,4,16,64",
  "--strategies",
  "best-of-n,majority,beam:M=4",
  "--extra-strategies",
  "best-of-n-adaptive:c=95",
  "--threads",
  "1",
];

describe("npm run calibrate", () => {
  const cases: [string, string[], RegExp][] = [
    ["seeds that do not parse", ["--seeds", "1,,x"], /--seeds/],
    ["budgets without 64", ["--budgets", "1,4,16"], /--budgets must include 64/],
    ["no best-of-n among the strategies", ["--strategies", "majority"], /must include best-of-n/],
    ["an unknown strategy", ["--strategies", "best-of-n,magic"], /--strategies: unknown strategy "magic"/],
    ["a world that does not validate", ["--world", join(REPO, "package.json")], /--world .*package\.json/],
    ["an unknown option", ["--colour", "red"], /colour/],
    ["an unknown cost unit", ["--cost-unit", "pounds"], /--cost-unit must be tokens, money or flops/],
    [
      "the larger model's candidates priced in tokens",
      ["--strategies", "best-of-n,large"],
      /need --cost-unit money or flops/,
    ],
    [
      "a probe with a policy in dollars",
      ["--cost-unit", "money", "--probe", "4"],
      /--probe: a policy in money chooses from the text alone/,
    ],
  ];
  for (const [what, args, message] of cases) {
    it(`refuses ${what}: exit 2, one line, nothing written`, async () => {
      const out = join(TMP, `refused-${what.replace(/\W+/g, "-")}.json`);
      const r = await calibrate([...args, "--out", out]);
      expect(r.status).toBe(2);
      const lines = r.stderr.split("\n").filter(Boolean);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
      expect(existsSync(out)).toBe(false);
    });
  }

  it("fits and writes a policy that validates, and measures it held out with two seeds", async () => {
    const out = join(TMP, "policy.json");
    const report = join(TMP, "policy-report.json");
    const r = await calibrate([...SMALL, "--seeds", "1,2", "--out", out, "--report", report]);
    expect(r.status, r.stderr).toBe(0);
    const parsed = parsePolicy(JSON.parse(readFileSync(out, "utf8")));
    if (!parsed.ok) throw new Error(parsed.error);
    const policy = parsed.policy;
    expect(policy.source.problems).toBe(80);
    // Arms are measured configurations of the candidate families only.
    for (const arm of policy.arms) expect(arm.config).toMatch(/^(best-of-n|beam-search)\(/);
    // A generous cap buys at least as much as a tight one.
    const prompt = "Start with 48. Add 17. Multiply by 6. Subtract 129. Divide by 3. What is the final number?";
    // (A probing policy is asked with the probe's features imputed, as when a cap cannot afford the probe.)
    const probe = policy.probe ? imputedProbe(policy) : undefined;
    const tight = choosePolicyArm(policy, prompt, 1, probe);
    const generous = choosePolicyArm(policy, prompt, 1e9, probe);
    expect(generous.arm.budget).toBeGreaterThanOrEqual(tight.arm.budget);
    // The JSON report leads with the headline: per budget, policy minus best fixed configuration, with its interval.
    const json = JSON.parse(readFileSync(report, "utf8")) as {
      headline: {
        unit: string;
        pairs: { fit: number[]; heldOut: number }[];
        budgets: {
          budget: number;
          deltaPoints: { estimate: number; low: number; high: number };
          policyAccuracy: number;
          baselineAccuracy: number;
          baselineConfig: string;
          oracleBoundPoints: number;
        }[];
      };
      report: string;
    };
    expect(json.headline.unit).toBe("tokens");
    expect(json.headline.pairs).toEqual([
      { fit: [2], heldOut: 1, probe: 0 },
      { fit: [1], heldOut: 2, probe: 0 },
    ]);
    expect(json.headline.budgets.length).toBe(4); // one per doubling of N in --budgets 1,4,16,64
    for (const b of json.headline.budgets) {
      const d = b.deltaPoints;
      expect(d.low).toBeLessThanOrEqual(d.estimate + 1e-9);
      expect(d.high).toBeGreaterThanOrEqual(d.estimate - 1e-9);
      expect(d.estimate).toBeCloseTo(100 * (b.policyAccuracy - b.baselineAccuracy), 6);
      expect(b.baselineConfig).toMatch(/^(best-of-n|beam-search)\(/);
      // What choosing per difficulty could add at most: in-sample, so never below zero.
      expect(b.oracleBoundPoints).toBeGreaterThanOrEqual(0);
      expect(b.oracleBoundPoints).toBeLessThanOrEqual(100);
    }
    expect(json.headline.budgets.map((b) => b.budget)).toEqual(
      [...json.headline.budgets.map((b) => b.budget)].sort((a, b) => a - b),
    );
    expect(json.report).toMatch(/^# Policy .*\n\n## Headline/);
    expect(json.report).toContain("| bound (oracle bins) |");
    // The shipped policy carries its held-out headline, the caps and what it was calibrated for.
    expect(policy.calibration?.calibratedFor.world).toBe("default");
    expect(policy.calibration?.caps.overCap).toBe("failure");
    expect(policy.calibration?.headline?.budgets.map((b) => b.deltaPoints)).toEqual(
      json.headline.budgets.map((b) => b.deltaPoints),
    );
  });

  it("with --cost-unit money, adds the larger model's candidates, fits in dollars, and reports what escalation adds", async () => {
    const out = join(TMP, "escalation.json");
    const report = join(TMP, "escalation.md");
    const r = await calibrate([...SMALL, "--seeds", "1,2", "--cost-unit", "money", "--out", out, "--report", report]);
    expect(r.status, r.stderr).toBe(0);
    const parsed = parsePolicy(JSON.parse(readFileSync(out, "utf8")));
    if (!parsed.ok) throw new Error(parsed.error);
    expect(parsed.policy.costUnit).toBe("money");
    expect(parsed.policy.probe).toBeNull();
    expect(parsed.policy.source.command).toContain("--cost-unit money");
    for (const arm of parsed.policy.arms) expect(arm.evidence.highTokens).toBeGreaterThan(0);
    const text = readFileSync(report, "utf8");
    expect(text).toContain("small model only");
    expect(text).toMatch(/Escalation: \d+ of \d+ arms run on the larger model/);
  });
});
