/**
 * npm run measure:caps as a user runs it: bad input is refused with exit 2 and one line; a small run prints one
 * row per seed and cap, in the policy's unit, whose capped spend never exceeds the cap.
 */
import { describe, expect, it } from "vitest";
import { measureCapsCommand } from "../scripts/measure-caps";
import { runCommand, type CliRun } from "./support/cli";

function measureCaps(args: string[]): Promise<CliRun> {
  return runCommand(measureCapsCommand, args, { TTC_KEY: "" });
}

describe("npm run measure:caps", () => {
  const cases: [string, string[], RegExp][] = [
    [
      "an unknown policy",
      ["--policy", "nope"],
      /--policy must be one of default-text, default, default-escalation, got "nope"/,
    ],
    ["a policy that probes first", ["--policy", "default"], /--policy default probes first/],
    ["a cap that is not a positive number", ["--caps", "1000,x"], /--caps: "x" is not a positive number/],
    ["a service without a key", ["--service", "http://127.0.0.1:9"], /--service needs --key KEY/],
  ];
  for (const [what, args, message] of cases) {
    it(`refuses ${what}: exit 2, one line`, async () => {
      const r = await measureCaps(args);
      expect(r.status).toBe(2);
      const lines = r.stderr.split("\n").filter(Boolean);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
    });
  }

  it("measures a dollar policy at a dollar cap: one row per seed and cap, the capped spend within the cap", async () => {
    const r = await measureCaps([
      "--policy",
      "default-escalation",
      "--seeds",
      "11,12",
      "--problems",
      "12",
      "--caps",
      "0.0005",
    ]);
    expect(r.status, r.stderr).toBe(0);
    const rows = r.stdout.split("\n").filter((l) => /^\| 1[12] \|/.test(l));
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      const cells = row.split("|").map((c) => c.trim());
      expect(cells[2]).toBe("$0.000500");
      const capped = Number(/^\$([\d.e-]+) \//.exec(cells[6]!)![1]);
      expect(capped).toBeGreaterThan(0);
      expect(capped).toBeLessThanOrEqual(0.0005);
    }
  });
});
