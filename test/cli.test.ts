/**
 * Every command of scripts/ on the shared CLI layer (scripts/cli.ts): --help prints its usage and every option it
 * takes, exit 0; an unknown option or a malformed value is one line naming it, exit 2, before any work starts.
 */
import { describe, expect, it } from "vitest";
import { benchApiCommand } from "../scripts/bench-api";
import { benchCommand } from "../scripts/bench";
import { benchProvidersCommand } from "../scripts/bench-providers";
import { calibrateCommand } from "../scripts/calibrate";
import type { Command } from "../scripts/cli";
import { crashTestCommand } from "../scripts/crash-test";
import { escalationCommand } from "../scripts/escalation";
import { evalCommand } from "../scripts/eval";
import { exportProblemsCommand } from "../scripts/export-problems";
import { keysCommand } from "../scripts/keys";
import { measureCapsCommand } from "../scripts/measure-caps";
import { measureServiceCommand } from "../scripts/measure-service";
import { providersCheckCommand } from "../scripts/providers-check";
import { retuneCurveCommand } from "../scripts/retune-curve";
import { simServerCommand } from "../scripts/sim-server";
import { verifyWorldCommand } from "../scripts/verify-world";
import { runCommand } from "./support/cli";

/** Each command with one malformed value of an option it takes, and what its line must name. */
const COMMANDS: [Command, string[], RegExp][] = [
  [benchApiCommand, ["--requests", "0"], /--requests must be an integer >= 1/],
  [benchCommand, ["--solves", "x"], /--solves must be an integer >= 1/],
  [benchProvidersCommand, ["--problems", "0"], /--problems must be an integer >= 1/],
  [calibrateCommand, ["--cost-unit", "euros"], /--cost-unit must be tokens, money or flops/],
  [crashTestCommand, ["--kills=-1"], /--kills must be an integer >= 1/],
  [escalationCommand, ["--seeds", "1,,2"], /--seeds/],
  [evalCommand, ["--budgets", "0"], /--budgets: "0" is not a budget/],
  [exportProblemsCommand, [], /--out FILE.jsonl is required/],
  [keysCommand, ["rotate"], /unknown command "rotate"/],
  [measureCapsCommand, ["--caps=-5"], /--caps: "-5" is not a positive number/],
  [measureServiceCommand, [], /--service URL is required/],
  [providersCheckCommand, ["--providers", "{}"], /PROVIDERS/],
  [retuneCurveCommand, ["--explore", "1.5"], /--explore must be a share between 0 and 1/],
  [simServerCommand, ["--port", "http"], /--port must be a non-negative number/],
  [simServerCommand, ["--flavor", "triton"], /--flavor must be one of vllm, sglang, tgi, ollama, llamacpp/],
  [verifyWorldCommand, ["--seed", "1", "--seeds", "2"], /--seed and --seeds: give one of them/],
];

describe("the shared CLI layer", () => {
  for (const [cmd, bad, names] of COMMANDS) {
    it(`${cmd.name}: --help, an unknown option and a bad value`, async () => {
      const help = await runCommand(cmd, ["--help"]);
      expect([help.status, help.stderr]).toEqual([0, ""]);
      expect(help.stdout).toMatch(new RegExp(`^usage: npm run ${cmd.name} -- `));
      expect(help.stdout).toBe(cmd.help());

      const unknown = await runCommand(cmd, ["--no-such-option"]);
      expect(unknown.status).toBe(2);
      expect(unknown.stderr).toMatch(
        new RegExp(`^${cmd.name}: Unknown option '--no-such-option'[^\\n]*\\(see --help\\)\\n$`),
      );

      const r = await runCommand(cmd, bad, { TTC_KEY: "" });
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr.split("\n").filter(Boolean)).toHaveLength(1);
      expect(r.stderr).toMatch(names);
      expect(r.stdout).toBe("");
    });
  }

  it("says how to give a value that starts with a dash, on one line", async () => {
    const r = await runCommand(crashTestCommand, ["--kills", "-1"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^crash-test: Option '--kills' argument is ambiguous\..* '--kills=-XYZ'.*\n$/);
  });

  it("names every option a command takes in its help", () => {
    for (const flag of [
      "--world FILE",
      "--cost-unit tokens|money|flops",
      "--dataset FILE.jsonl",
      "--skip-invalid-rows",
    ])
      expect(calibrateCommand.help()).toContain(flag);
  });
});
