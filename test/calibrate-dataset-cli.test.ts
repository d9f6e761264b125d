/**
 * npm run calibrate --dataset as a user runs it, against a stand-in service over real HTTP
 * (test/support/fakeService.ts runs the service's executor on the simulated world): bad rows refused by line
 * with exit 2 unless --skip-invalid-rows; an unreachable service, a refused key and in-process options are one
 * line and exit 2; a run writes a policy that validates, fitted on the usable rows, with nothing half-written.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { calibrateCommand } from "../scripts/calibrate";
import { runCommand, type CliRun } from "./support/cli";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadWorld } from "../src/eval/io";
import { parsePolicy } from "../src/policy/document";
import { generateProblems } from "../src/sim/problems";
import { providersFingerprint } from "../src/wiring/fingerprint";
import { startFakeService, type FakeService } from "./support/fakeService";

const TMP = mkdtempSync(join(tmpdir(), "calibrate-dataset-cli-"));
const KEY = "ttc_fake_key";

/** In process: the stand-in service answers from this process while the command runs. */
function calibrate(args: string[]): Promise<CliRun> {
  return runCommand(calibrateCommand, args);
}

let fake: FakeService;
const world = loadWorld();
const rows = generateProblems(world, 31, 14).map((r) => JSON.stringify(r));
const clean = join(TMP, "clean.jsonl");
const dirty = join(TMP, "dirty.jsonl");

beforeAll(async () => {
  fake = await startFakeService(world, { key: KEY, tooMany: 2 });
  writeFileSync(clean, rows.join("\n") + "\n");
  // Line 3 is not JSON and line 9 has no answer.
  const bad = [...rows];
  bad.splice(2, 0, "{truncated");
  bad.splice(8, 0, JSON.stringify({ unique_id: "no-answer", problem: "Start with 2. What is the final number?" }));
  writeFileSync(dirty, bad.join("\n") + "\n");
});
afterAll(async () => {
  await fake.close();
  rmSync(TMP, { recursive: true, force: true });
});

const SMALL = ["--strategies", "best-of-n,majority", "--budgets", "1,4", "--oracle-samples", "2", "--concurrency", "4"];

describe("npm run calibrate --dataset", () => {
  it("refuses a dataset with bad rows by line number: exit 2, one line, nothing written", async () => {
    const out = join(TMP, "refused", "policy.json");
    const r = await calibrate(["--dataset", dirty, "--service", fake.base, "--key", KEY, ...SMALL, "--out", out]);
    expect(r.status).toBe(2);
    const lines = r.stderr.split("\n").filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /line 3: not valid JSON \(and 1 more invalid row: lines 9\); fix it or pass --skip-invalid-rows/,
    );
    expect(existsSync(out)).toBe(false);
  });

  const refusals: [string, () => string[], RegExp][] = [
    [
      "an unreachable service",
      () => ["--service", `http://127.0.0.1:${deadPort}`, "--key", KEY],
      /cannot reach the service at http:\/\/127\.0\.0\.1:\d+\/? \(ECONNREFUSED\)/,
    ],
    [
      "a key the service refuses",
      () => ["--service", fake.base, "--key", "ttc_wrong"],
      /refused the key \(HTTP 401\): this API key is not valid/,
    ],
    ["no service", () => [], /--dataset needs --service URL/],
    [
      "an in-process option",
      () => ["--service", fake.base, "--key", KEY, "--world", "worlds/default.json"],
      /--world is for the in-process calibration/,
    ],
    [
      "an unknown cost unit",
      () => ["--service", fake.base, "--key", KEY, "--cost-unit", "pounds"],
      /--cost-unit must be tokens, money or flops, got "pounds"/,
    ],
  ];
  let deadPort = 0;
  beforeAll(async () => {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
    deadPort = (srv.address() as AddressInfo).port;
    await new Promise<void>((r) => srv.close(() => r()));
  });
  for (const [what, args, message] of refusals) {
    it(`refuses ${what}: exit 2, one line`, async () => {
      const out = join(TMP, `refused-${what.replace(/\W+/g, "-")}.json`);
      const r = await calibrate(["--dataset", clean, ...args(), ...SMALL, "--out", out]);
      expect(r.status, r.stderr).toBe(2);
      const lines = r.stderr.split("\n").filter(Boolean);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
      expect(existsSync(out)).toBe(false);
    });
  }

  it("with --skip-invalid-rows fits on the rest, reports the skipped lines and writes a policy that validates", async () => {
    const dir = join(TMP, "ok");
    const out = join(dir, "policy.json");
    const before = fake.stats.solves;
    const r = await calibrate([
      "--dataset",
      dirty,
      "--service",
      fake.base,
      "--key",
      KEY,
      ...SMALL,
      "--skip-invalid-rows",
      "--out",
      out,
      "--report",
      join(dir, "policy.md"),
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/skipped 2 invalid rows of .*dirty\.jsonl \(lines 3, 9\)/);
    // 14 problems × (4 configurations + 2 oracle samples), after the stand-in's two 429s were retried.
    expect(fake.stats.solves - before).toBe(14 * 6);
    const parsed = parsePolicy(JSON.parse(readFileSync(out, "utf8")));
    if (!parsed.ok) throw new Error(parsed.error);
    expect(parsed.policy.source).toMatchObject({
      kind: "calibration",
      dataset: "dirty.jsonl",
      problems: 14,
      oracleSamples: 2,
    });
    expect(parsed.policy.source.command).not.toContain(KEY);
    // Calibrated for the service's own providers, as its GET /v1/policy names them: what the service compares.
    expect(parsed.policy.calibration?.calibratedFor).toEqual(providersFingerprint("sim", world));
    expect(parsed.policy.armChoice).toBe("cap");
    for (const arm of parsed.policy.arms) expect(arm.config).toMatch(/^best-of-n\(n=(1|4),(weighted|majority)\)$/);
    const report = readFileSync(join(dir, "policy.md"), "utf8");
    expect(report).toMatch(/2 invalid rows skipped: lines 3, 9/);
    expect(report).toMatch(/\| best-of-n\(n=4,weighted\) \| \d+\.\d% \| \d+ \|/);
    // Written through temporary names: nothing else is left in the directory.
    expect(readdirSync(dir).sort()).toEqual(["policy.json", "policy.md"]);
  });

  it("with --cost-unit money, calibrates the larger model's candidates through the service and fits in dollars", async () => {
    const dir = join(TMP, "money");
    const out = join(dir, "policy.json");
    const r = await calibrate([
      "--dataset",
      dirty,
      "--service",
      fake.base,
      "--key",
      KEY,
      ...SMALL,
      "--strategies",
      "best-of-n,majority,large",
      "--skip-invalid-rows",
      "--cost-unit",
      "money",
      "--out",
      out,
    ]);
    expect(r.status, r.stderr).toBe(0);
    const parsed = parsePolicy(JSON.parse(readFileSync(out, "utf8")));
    if (!parsed.ok) throw new Error(parsed.error);
    expect(parsed.policy.costUnit).toBe("money");
    expect(parsed.policy.source.command).toContain("--cost-unit money");
    for (const arm of parsed.policy.arms) {
      expect(arm.config).toMatch(/^best-of-n\(n=(1|4),(weighted|majority)(,model=large)?\)$/);
      expect(arm.evidence.highTokens).toBeGreaterThan(0);
      expect(arm.evidence.meanCost).toBeLessThan(0.01);
    }
  });
});
