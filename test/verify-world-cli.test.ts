/**
 * scripts/verify-world.ts as a user runs it, at a size that only checks the mechanics: several worlds and
 * seeds in one run, a markdown summary with the properties and efficiency per world, exit 1 only when the
 * default world does not reproduce a property (another world is reported, not failed), and bad input
 * refused with exit 2, one line and nothing written.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { verifyWorldCommand } from "../scripts/verify-world";
import { runCommand, type CliRun } from "./support/cli";
import { afterAll, describe, expect, it } from "vitest";

const TMP = mkdtempSync(join(tmpdir(), "verify-world-test-"));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

const TINY = [
  "--problems",
  "10",
  "--oracle-samples",
  "8",
  "--budgets",
  "1,4,16",
  "--strategies",
  "best-of-n,majority,beam:M=4",
  "--threads",
  "1",
  "--resamples",
  "20",
];

function run(args: string[]): Promise<CliRun> {
  return runCommand(verifyWorldCommand, args);
}

describe("verify-world CLI", () => {
  it("refuses seeds that do not parse and a missing world: exit 2, one line, nothing written", async () => {
    for (const [args, re] of [
      [["--seeds", "1,,x"], /--seeds/],
      [["--world", join(TMP, "nope.json")], /--world .*no such file/],
    ] as [string[], RegExp][]) {
      const out = join(TMP, `bad-${args[0]}`);
      const r = await run([...args, ...TINY, "--out", out]);
      expect(r.status, r.stderr).toBe(2);
      const lines = r.stderr.split("\n").filter(Boolean);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(re);
      expect(existsSync(out)).toBe(false);
    }
  });

  it("checks several worlds over several seeds; only the default world's properties decide the exit code", async () => {
    const both = join(TMP, "both");
    const r = await run([
      "--world",
      "worlds/default.json,worlds/noisy-verifier.json",
      "--seeds",
      "1,2",
      ...TINY,
      "--out",
      both,
    ]);
    // At 10 problems and budgets up to 16 several properties cannot be measured on the default world.
    expect(r.status, r.stderr).toBe(1);
    const summary = readFileSync(join(both, "summary.md"), "utf8");
    expect(summary).toMatch(/The default world does not reproduce properties/);
    for (const name of ["default", "noisy-verifier"]) {
      expect(summary).toMatch(new RegExp(`^## ${name} \\(`, "m"));
      expect(existsSync(join(both, name, "seed-1", "results.json"))).toBe(true);
      expect(existsSync(join(both, name, "seed-2", "cost.svg"))).toBe(true);
      const res = JSON.parse(readFileSync(join(both, name, "results.json"), "utf8"));
      expect(res.properties).toHaveLength(7);
      expect(res.summary.seeds).toEqual([1, 2]);
    }
    // Per world: oracle bins, seven properties, efficiency at N = 16, 64, 256 in generations and in cost.
    expect(summary).toMatch(/Oracle pass@1 per bin .*bin 1 .*bin 5/);
    expect((summary.match(/^\| [1-7] \| \*\*(holds|fails|not measurable)\*\* \|/gm) ?? []).length).toBe(14);
    expect(summary).toMatch(
      /\| N \| generations \(paper's unit\) \| tokens \(cost-matched\) \| FLOPs \(cost-matched\) \| dollars \(cost-matched\) \|/,
    );
    for (const n of [16, 64, 256]) expect((summary.match(new RegExp(`^\\| ${n} \\|`, "gm")) ?? []).length).toBe(2);
    expect(r.stdout).toBe(summary);
    // The world diagnostics, on the first seed's problems.
    expect((summary.match(/^Diagnostics \(seed 1\):/gm) ?? []).length).toBe(2);
    expect(JSON.parse(readFileSync(join(both, "noisy-verifier", "diagnostics.json"), "utf8")).world).toBe(
      "noisy-verifier",
    );

    // Another world alone is reported, never failed.
    const other = join(TMP, "other");
    const r2 = await run(["--world", "worlds/noisy-verifier.json", "--seed", "1", ...TINY, "--out", other]);
    expect(r2.status, r2.stderr).toBe(0);
    expect(readFileSync(join(other, "summary.md"), "utf8")).toMatch(/The default world was not among those checked/);
  });
});
