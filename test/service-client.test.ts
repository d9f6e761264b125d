/**
 * The pieces of calibration and measurement through the service: reading datasets with bad rows, the HTTP
 * client (Retry-After, refusals, an unreachable service, a sync solve that outlives its wait), the service
 * calibration against a stand-in service over real HTTP (its outcomes must be the in-process sweep's), and
 * the measurement statistics.
 */
import { revisions, RevisionsSpecSchema } from "../src/engine/strategies/revisions";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDatasetText, readCalibrationDataset } from "../src/eval/datasetRows";
import { InputError, loadWorld } from "../src/eval/io";
import { parseStrategies } from "../src/eval/grid";
import { specsOf } from "../src/eval/outcomes";
import { calibrateThroughService, ORACLE_SPEC } from "../src/eval/serviceCalibration";
import {
  createServiceClient,
  describeServiceFailure,
  retryAfterMs,
  ServiceError,
  ServiceUnreachable,
} from "../src/eval/serviceClient";
import { calibrationSeeds, figuresOf, pairedDifference, runCappedInProcess } from "../src/eval/serviceMeasure";
import { StrategySpecSchema } from "../src/engine/strategies";
import { serviceSeed } from "../src/eval/serviceCalibration";
import shippedText from "../policies/default-text.json";
import { evaluateProblem } from "../src/eval/sweep";
import { EVAL_DEFAULTS } from "../src/eval/run";
import { generateProblems } from "../src/sim/problems";
import { startFakeService, type FakeService } from "./support/fakeService";

const TMP = mkdtempSync(join(tmpdir(), "service-client-test-"));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

const good = (id: string, answer: string | number = "7"): string =>
  JSON.stringify({ unique_id: id, problem: `Start with 3. Add 4. What is the final number? (${id})`, answer });

describe("dataset rows", () => {
  const text = [
    good("a"),
    "",
    "{not json",
    JSON.stringify({ unique_id: "b", answer: "1" }),
    good("a"),
    good("c", ""),
    good("d", 12),
    JSON.stringify({ unique_id: "e", problem: "   ", answer: "1" }),
    good("f", "x}"),
  ].join("\n");

  it("keeps good rows with their line numbers and reports every bad one by line", () => {
    const { rows, invalid } = parseDatasetText(text);
    expect(rows.map((r) => [r.problem.id, r.line])).toEqual([
      ["a", 1],
      ["d", 7],
    ]);
    expect(rows[1]?.problem.answer).toBe("12");
    expect(invalid.map((r) => r.line)).toEqual([3, 4, 5, 6, 8, 9]);
    expect(invalid[0]?.reason).toBe("not valid JSON");
    expect(invalid[1]?.reason).toMatch(/field problem/);
    expect(invalid[2]?.reason).toMatch(/duplicate unique_id "a"/);
    expect(invalid[3]?.reason).toMatch(/normalises to nothing/);
    expect(invalid[4]?.reason).toMatch(/field problem/);
    expect(invalid[5]?.reason).toMatch(/would not be graded correct/);
  });

  it("refuses a file with a bad row unless asked to skip, naming the line and the others", () => {
    const file = join(TMP, "mixed.jsonl");
    writeFileSync(file, [...Array.from({ length: 12 }, (_, i) => good(`ok${i}`)), "{oops", good("ok3")].join("\n"));
    expect(() => readCalibrationDataset(file, { skipInvalid: false, minRows: 10 })).toThrow(InputError);
    expect(() => readCalibrationDataset(file, { skipInvalid: false, minRows: 10 })).toThrow(
      /line 13: not valid JSON \(and 1 more invalid row: lines 14\); fix it or pass --skip-invalid-rows/,
    );
    const kept = readCalibrationDataset(file, { skipInvalid: true, minRows: 10 });
    expect(kept.rows).toHaveLength(12);
    expect(kept.invalid.map((r) => r.line)).toEqual([13, 14]);
    expect(() => readCalibrationDataset(file, { skipInvalid: true, minRows: 13 })).toThrow(
      /12 usable rows \(2 invalid, lines 13, 14\); calibration needs at least 13/,
    );
    expect(() => readCalibrationDataset(join(TMP, "missing.jsonl"), { skipInvalid: true, minRows: 1 })).toThrow(
      /no such file/,
    );
  });
});

describe("service client", () => {
  let server: Server;
  let base = "";
  let script: { status: number; body: unknown; headers?: Record<string, string> }[] = [];
  const seen: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? ""}`);
      const next = script.shift() ?? { status: 500, body: { error: { type: "internal", message: "script ran out" } } };
      res
        .writeHead(next.status, { "content-type": "application/json", ...next.headers })
        .end(JSON.stringify(next.body));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const view = (over: Record<string, unknown> = {}) => ({
    id: "0c78f5ff-1111-4222-8333-944445555666",
    status: "done",
    stopReason: "complete",
    strategy: "best-of-n(n=1,majority)",
    answer: "7",
    confidence: 1,
    steps: 1,
    spend: { generations: 1, samples: 1, tokens: 120, verifierTokens: 0, flops: 1, money: 0 },
    createdAt: 1,
    ...over,
  });

  it("reads Retry-After as seconds or an HTTP date", () => {
    expect(retryAfterMs("3")).toBe(3000);
    expect(retryAfterMs("0.5")).toBe(500);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(retryAfterMs(null)).toBeNull();
    expect(retryAfterMs("soon")).toBeNull();
  });

  it("retries a 429 after its Retry-After and sends the key", async () => {
    const waits: number[] = [];
    script = [
      { status: 429, body: { error: { type: "rate_limited", message: "slow down" } }, headers: { "retry-after": "2" } },
      { status: 429, body: { error: { type: "rate_limited", message: "slow down" } }, headers: { "retry-after": "1" } },
      { status: 200, body: view() },
    ];
    seen.length = 0;
    const client = createServiceClient({ base: `${base}/`, key: "ttc_k", sleep: async (ms) => void waits.push(ms) });
    const v = await client.solve({ prompt: "p", strategy: { strategy: "best-of-n", n: 1 } });
    expect(v.answer).toBe("7");
    expect(waits).toEqual([2000, 1000]);
    expect(client.retries()).toBe(2);
    expect(seen).toEqual(Array(3).fill("POST /v1/solves Bearer ttc_k"));
  });

  it("gives up on a 429 whose Retry-After is longer than it will wait, with the service's message", async () => {
    script = [
      {
        status: 429,
        body: { error: { type: "rate_limited", message: "daily tokens cap: retry after 36000 s" } },
        headers: { "retry-after": "36000" },
      },
    ];
    const client = createServiceClient({ base, key: "k", sleep: async () => undefined });
    await expect(client.solve({ prompt: "p" })).rejects.toThrow(/HTTP 429 rate_limited: daily tokens cap/);
  });

  it("turns a refused key into one line with the service's message", async () => {
    script = [
      {
        status: 401,
        body: { error: { type: "unauthorized", message: "this API key is not valid (unknown or revoked)" } },
      },
    ];
    const client = createServiceClient({ base, key: "bad" });
    const err = await client.usage().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceError);
    expect(describeServiceFailure(err, base)).toBe(
      `${base} refused the key (HTTP 401): this API key is not valid (unknown or revoked)`,
    );
  });

  it("says when nothing answers at the address, after its retries", async () => {
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, "127.0.0.1", r));
    const port = (dead.address() as AddressInfo).port;
    await new Promise<void>((r) => dead.close(() => r()));
    let slept = 0;
    const client = createServiceClient({
      base: `http://127.0.0.1:${port}`,
      key: "k",
      maxConnectAttempts: 3,
      sleep: async () => void slept++,
    });
    const err = await client.usage().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceUnreachable);
    expect(describeServiceFailure(err, "x")).toMatch(
      new RegExp(`cannot reach the service at http://127.0.0.1:${port} \\(ECONNREFUSED\\)`),
    );
    expect(slept).toBe(2);
  });

  it("polls a sync solve that outlives its wait (504) until it is done", async () => {
    const id = "0c78f5ff-1111-4222-8333-944445555666";
    script = [
      {
        status: 504,
        body: { error: { type: "timeout", message: `solve ${id} is still running; poll GET /v1/solves/${id}` } },
      },
      { status: 200, body: view({ status: "running", answer: null, stopReason: undefined }) },
      { status: 200, body: view({ answer: "9" }) },
    ];
    seen.length = 0;
    const client = createServiceClient({ base, key: "k", sleep: async () => undefined });
    expect((await client.solve({ prompt: "p" })).answer).toBe("9");
    expect(seen.map((s) => s.split(" ").slice(0, 2).join(" "))).toEqual([
      "POST /v1/solves",
      `GET /v1/solves/${id}`,
      `GET /v1/solves/${id}`,
    ]);
  });

  it("refuses an answer that is not a solve", async () => {
    script = [{ status: 200, body: { hello: "world" } }];
    const client = createServiceClient({ base, key: "k" });
    await expect(client.solve({ prompt: "p" })).rejects.toThrow(/not what this client expects/);
  });
});

describe("calibration through a service (stand-in over HTTP)", () => {
  const world = loadWorld();
  const problems = generateProblems(world, 7, 6).map((r) => ({
    id: r.unique_id,
    question: r.problem,
    answer: r.answer,
  }));
  const entries = parseStrategies("best-of-n,beam:M=4,revisions");
  const budgets = [1, 4, 16];
  let fake: FakeService;
  beforeAll(async () => {
    fake = await startFakeService(world, { key: "ttc_test", tooMany: 3 });
  });
  afterAll(() => fake.close());

  it("gives the in-process sweep's outcomes for every candidate, and pass@1 from distinct single samples", async () => {
    const specs = specsOf(entries, budgets);
    if (!specs.ok) throw new Error(specs.error);
    const configs = [...specs.specs].map(([config, spec]) => ({ config, spec }));
    const client = createServiceClient({ base: fake.base, key: "ttc_test", sleep: async () => undefined });
    const result = await calibrateThroughService(client, problems, {
      configs,
      oracleSamples: 4,
      seed: 3,
      concurrency: 3,
      solveTokens: 400_000,
      runId: "t",
    });
    expect(fake.stats.refused).toBe(3);
    expect(client.retries()).toBe(3);
    expect(result.solves).toBe(problems.length * (configs.length + 4));
    expect(fake.stats.solves).toBe(result.solves);
    // The oracle's samples each have their own seed.
    expect(new Set(fake.stats.seeds).size).toBeGreaterThanOrEqual(problems.length * 4);
    expect(ORACLE_SPEC).toMatchObject({
      strategy: "best-of-n",
      n: 1,
      selection: "majority",
      temperature: EVAL_DEFAULTS.oracleTemperature,
    });
    // The same seeds as the in-process sweep: the same answers and spend, configuration by configuration.
    const d = result.data;
    let total = 0;
    for (const [i, p] of problems.entries()) {
      const inProcess = await evaluateProblem(world, p, i, {
        seed: 3,
        strategies: entries,
        budgets,
        oracleSamples: 8,
        oracleTemperature: 0.8,
      });
      for (const rec of inProcess.records) {
        const c = d.configs.findIndex((x) => x.config === rec.config);
        expect(c, rec.config).toBeGreaterThanOrEqual(0);
        expect([d.correct[c]![i], d.tokens[c]![i], d.generations[c]![i]], `${rec.config} on problem ${i}`).toEqual([
          rec.correct ? 1 : 0,
          rec.tokens,
          rec.generations,
        ]);
        total += rec.tokens;
      }
      expect(d.passAt1[i]).toBeGreaterThanOrEqual(0);
      expect(d.passAt1[i]).toBeLessThanOrEqual(1);
      expect((d.passAt1[i]! * 4) % 1).toBe(0);
    }
    expect(result.tokens - result.oracleTokens).toBe(total);
    expect(result.budgetStopped.size).toBe(0);
  });
});

describe("the policy's choices in process with the service's hard cap", () => {
  it("a cap that fits changes nothing; one below a step's worst case cuts it short", async () => {
    const world = loadWorld();
    const problems = generateProblems(world, 5, 3).map((r) => ({
      id: r.unique_id,
      question: r.problem,
      answer: r.answer,
    }));
    const spec = StrategySpecSchema.parse({ strategy: "best-of-n", n: 16, selection: "majority" });
    const entries = parseStrategies("majority");
    const seedOf = (i: number) => serviceSeed(2, i, spec);
    const roomy = await runCappedInProcess(world, problems, 1e6, () => spec, seedOf);
    for (const [i, p] of problems.entries()) {
      const rec = (
        await evaluateProblem(world, p, i, {
          seed: 2,
          strategies: entries,
          budgets: [16],
          oracleSamples: 8,
          oracleTemperature: 0.8,
        })
      ).records[0]!;
      expect(roomy[i]).toEqual({
        correct: rec.correct,
        tokens: rec.tokens,
        money: rec.money,
        flops: rec.flops,
        generations: 16,
        cut: false,
      });
    }
    // 16 samples of up to 1024 tokens do not fit in 4096: a round is shrunk to the (at most 3) whose worst case
    // fits, and later rounds ask for the rest as what the earlier ones actually cost leaves room.
    const tight = await runCappedInProcess(world, problems, 4096, () => spec, seedOf);
    for (const t of tight) {
      expect(t.cut).toBe(true);
      expect(t.generations).toBeGreaterThan(3);
      expect(t.generations).toBeLessThanOrEqual(16);
      expect(t.tokens).toBeLessThanOrEqual(4096);
    }
  });
});

describe("revision chains under the service's hard cap", () => {
  it("a cap that fits changes nothing; below the first step's worst case, chains are opened in rounds", async () => {
    const world = loadWorld();
    const problems = generateProblems(world, 6, 3).map((r) => ({
      id: r.unique_id,
      question: r.problem,
      answer: r.answer,
    }));
    for (const [sequential, parallel] of [
      [1, 16],
      [2, 8],
    ] as const) {
      const spec = StrategySpecSchema.parse({ strategy: "revisions", sequential, parallel, selection: "majority" });
      const seedOf = (i: number) => serviceSeed(3, i, spec);
      const roomy = await runCappedInProcess(world, problems, 1e6, () => spec, seedOf);
      const free = await runCappedInProcess(world, problems, {}, () => spec, seedOf);
      expect(roomy).toEqual(free);
      expect(roomy.every((r) => r.generations === 16 && !r.cut)).toBe(true);
      // p first attempts of up to 1024 tokens do not fit in 4096: the first round keeps the (at most 3) whose
      // worst case fits, and later rounds open the other chains as what the attempts actually cost leaves room.
      const tight = await runCappedInProcess(world, problems, 4096, () => spec, seedOf);
      for (const t of tight) {
        expect(t.cut).toBe(true);
        expect(t.generations).toBeGreaterThan(3);
        expect(t.tokens).toBeLessThanOrEqual(4096);
      }
    }
  });
});

describe("measurement statistics", () => {
  it("knows which seeds a policy was calibrated on, so held-out seeds can be checked", () => {
    const source = (command: string, seed = 4) => ({
      source: { kind: "calibration" as const, dataset: "generated", seed, problems: 1, oracleSamples: 1, command },
    });
    expect(calibrationSeeds(source("npm run calibrate -- --world w.json --seeds 1,2,3,4,5 --problems 500"))).toEqual([
      1, 2, 3, 4, 5,
    ]);
    expect(calibrationSeeds(source("npm run calibrate -- --dataset x.jsonl", 7))).toEqual([7]);
    expect(calibrationSeeds(shippedText as never)).not.toContain(11);
  });

  it("accuracy with its Wilson interval and mean tokens with a normal interval", () => {
    const f = figuresOf([
      { correct: true, tokens: 100, generations: 1 },
      { correct: false, tokens: 300, generations: 3 },
      { correct: 1, tokens: 200, generations: 2 },
      { correct: 0, tokens: 200, generations: 2 },
    ]);
    expect(f.accuracy).toBe(0.5);
    expect(f.lo).toBeCloseTo(0.15, 2);
    expect(f.hi).toBeCloseTo(0.85, 2);
    expect(f.meanTokens).toBe(200);
    expect(f.tokensHi - 200).toBeCloseTo((1.96 * Math.sqrt(20000 / 3)) / 2, 1);
    expect(f.meanGenerations).toBe(2);
  });

  it("paired differences agree when their interval contains 0, and not when it does not", () => {
    expect(pairedDifference([1, 0, 1, 0], [1, 0, 1, 0])).toEqual({ mean: 0, lo: 0, hi: 0, agree: true });
    const mixed = pairedDifference([1, 0, 1, 0, 1, 0], [0, 1, 1, 0, 0, 1]);
    expect(mixed.agree).toBe(true);
    const apart = pairedDifference(Array(50).fill(1), [...Array(40).fill(0), ...Array(10).fill(1)]);
    expect(apart.agree).toBe(false);
    expect(apart.mean).toBeCloseTo(0.8);
    expect(() => pairedDifference([1], [1, 2])).toThrow(/same problems/);
  });
});

describe("a revision state stored before chains were opened in rounds", () => {
  it("is past its first step: the next step revises the chains it has, it does not open more", () => {
    const spec = RevisionsSpecSchema.parse({ strategy: "revisions", sequential: 2, parallel: 8 });
    const attempt = { text: "Start.\n\n\\boxed{1}", steps: ["Start.", "\\boxed{1}"], answer: "1" };
    const legacy = {
      spec,
      question: "What is 1?",
      seed: 1,
      phase: "generate" as const,
      // A cap shrank its first step to three chains; the state has no `firstRounds` (older code).
      chains: [0, 1, 2].map((chain) => [{ ...attempt, chain, position: 0 }]),
    };
    const work = revisions.plan(legacy as never);
    expect(work.kind).toBe("generate");
    if (work.kind !== "generate") return;
    expect(work.requests).toHaveLength(3);
    expect(work.requests.every((r) => r.n === 1 && (r.attempts?.length ?? 0) === 1)).toBe(true);
  });
});
