/**
 * Calibration and measurement through the real service (the Worker in workerd, D1 and Durable Objects, the
 * simulated world in process): candidate solves with the sweep's seeds give exactly the in-process sweep's
 * outcomes, so a policy fitted from them is the policy calibrate would fit; auto solves carry the shipped
 * policy's decision, and the service grades feedback as the client does.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { testKey } from "./auth";
import defaultWorld from "../../worlds/default.json";
import { parseStrategies } from "../../src/eval/grid";
import { specsOf } from "../../src/eval/outcomes";
import { calibrateThroughService } from "../../src/eval/serviceCalibration";
import { createServiceClient } from "../../src/eval/serviceClient";
import { runAutoThroughService, runCappedInProcess } from "../../src/eval/serviceMeasure";
import { providersFingerprint } from "../../src/wiring/fingerprint";
import { serviceSeed } from "../../src/eval/serviceCalibration";
import { evaluateProblem } from "../../src/eval/sweep";
import { servicePolicy } from "../../src/policy/shipped";
import { choosePolicyArm } from "../../src/policy/choose";
import { generateProblems } from "../../src/sim/problems";
import { parseWorld } from "../../src/sim/world";

const parsed = parseWorld(defaultWorld);
if (!parsed.ok) throw new Error(parsed.error);
const world = parsed.world;
const problems = generateProblems(world, 41, 4).map((r) => ({
  id: r.unique_id,
  question: r.problem,
  answer: r.answer,
}));

async function client() {
  return createServiceClient({
    base: "https://ttc.test",
    key: (await testKey()).key,
    fetch: (url, init) => SELF.fetch(url, init),
  });
}

describe("through the service", () => {
  it("candidate solves give the in-process sweep's outcomes, configuration by configuration", async () => {
    const entries = parseStrategies("best-of-n,majority,dvts:M=4,revisions");
    const budgets = [1, 4];
    const specs = specsOf(entries, budgets);
    if (!specs.ok) throw new Error(specs.error);
    const configs = [...specs.specs].map(([config, spec]) => ({ config, spec }));
    const result = await calibrateThroughService(await client(), problems, {
      configs,
      oracleSamples: 2,
      seed: 9,
      concurrency: 4,
      solveTokens: 200_000,
      runId: "w",
    });
    const d = result.data;
    for (const [i, p] of problems.entries()) {
      const inProcess = await evaluateProblem(world, p, i, {
        seed: 9,
        strategies: entries,
        budgets,
        oracleSamples: 8,
        oracleTemperature: 0.8,
      });
      for (const rec of inProcess.records) {
        const c = d.configs.findIndex((x) => x.config === rec.config);
        expect([d.correct[c]![i], d.tokens[c]![i], d.generations[c]![i]], `${rec.config} on problem ${i}`).toEqual([
          rec.correct ? 1 : 0,
          rec.tokens,
          rec.generations,
        ]);
      }
    }
    expect(result.failed.size).toBe(0);
  });

  it("auto solves run the shipped policy's choice, and feedback with the gold answer is graded as the client grades", async () => {
    const cap = 8192;
    const records = await runAutoThroughService(await client(), problems, {
      cap,
      concurrency: 2,
      seedOf: (i) => 100 + i,
      feedback: true,
    });
    const policy = servicePolicy();
    for (const r of records) {
      expect(r.policyVersion).toBe(policy.version);
      // AUTO_EXPLORATION is 0 in tests: every solve runs the policy's own choice.
      expect(r.exploration).toBe(false);
      expect(r.config).toBe(choosePolicyArm(policy, problems[r.problem]!.question, cap).arm.config);
      expect(r.serviceCorrect).toBe(r.correct);
      expect(r.tokens).toBeLessThanOrEqual(cap);
    }
  });

  it("auto solves reproduce the in-process capped run on the same seeds: what calibration measures is what the service does", async () => {
    const cap = 4096;
    const policy = servicePolicy();
    const choose = (i: number) => choosePolicyArm(policy, problems[i]!.question, cap).arm.spec;
    const seedOf = (i: number) => serviceSeed(41, i, choose(i));
    const through = await runAutoThroughService(await client(), problems, {
      cap,
      concurrency: 2,
      seedOf,
      feedback: false,
    });
    const inProcess = await runCappedInProcess(world, problems, cap, choose, seedOf);
    const byProblem = [...through].sort((a, b) => a.problem - b.problem);
    expect(byProblem.map((r) => [r.problem, r.correct, r.tokens])).toEqual(
      inProcess.map((r, i) => [i, r.correct, r.tokens]),
    );
  });

  it("names its configured providers as a calibration through it records them (GET /v1/policy)", async () => {
    const configured = await (await client()).configuredProviders();
    expect(configured).toEqual(providersFingerprint("sim", world));
  });
});
