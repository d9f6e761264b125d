/**
 * The simulated world (docs sim-world.md): world schema, problem generation, the text-only generator,
 * difficulty spread, the PRM and the revision model. Statistical checks use fixed seeds, so they are
 * deterministic; their thresholds leave wide margins against the measured values noted beside them.
 */
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { answersEquivalent } from "../src/engine/answers";
import { renderPrompt } from "../src/engine/prompts";
import { splitSteps } from "../src/engine/solutionSteps";
import { candidateFromCompletion } from "../src/engine/strategies/candidates";
import { countTokens, parsePrompt, SimModels, type SampleParams, type SimModelName } from "../src/sim/models";
import { apply, generateProblems, parseProblem, type DatasetRow, type ParsedProblem } from "../src/sim/problems";
import { readStep, writeFinalStep, writeOpStep } from "../src/sim/text";
import { parseWorld, type World } from "../src/sim/world";
import { diagnoseWorld } from "../src/eval/diagnostics";

const WORLDS_DIR = fileURLToPath(new URL("../worlds/", import.meta.url));

function readJson(file: string): unknown {
  return JSON.parse(readFileSync(file, "utf8"));
}

function rawDefault(): Record<string, any> {
  return readJson(`${WORLDS_DIR}default.json`) as Record<string, any>;
}

function loadDefault(): World {
  const r = parseWorld(rawDefault());
  if (!r.ok) throw new Error(r.error);
  return r.world;
}

const world = loadDefault();

function params(over: Partial<SampleParams> = {}): SampleParams {
  return { n: 1, temperature: 0.8, oneStep: false, maxTokens: 1024, seed: 1, ...over };
}

function parsed(row: DatasetRow): ParsedProblem {
  const p = parseProblem(row.problem);
  if (!p) throw new Error(`does not parse: ${row.problem}`);
  return p;
}

function isRight(text: string, gold: string): boolean {
  const a = candidateFromCompletion({ text, finishReason: "stop" }).answer;
  return a !== null && answersEquivalent(a, gold);
}

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((s, x) => s + x, 0) / xs.length;
}

function sd(xs: readonly number[]): number {
  const mu = mean(xs);
  return Math.sqrt(mean(xs.map((x) => (x - mu) ** 2)));
}

function logit(p: number): number {
  return Math.log(p / (1 - p));
}

/** Split a list into five consecutive fifths. */
function fifths<T>(xs: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let q = 0; q < 5; q++)
    out.push(xs.slice(Math.round((q * xs.length) / 5), Math.round(((q + 1) * xs.length) / 5)));
  return out;
}

/** The right result of operation j from value a, as the simulated models compute it (division rounds). */
function stepResult(p: ParsedProblem, j: number, a: number): number {
  const op = p.ops[j]!;
  return op.kind === "divide" ? Math.round(a / op.operand) : apply(op.kind, a, op.operand);
}

/** A solution written step by step from the start value, with an optional wrong value at step `wrongAt`. */
function writeSolution(
  p: ParsedProblem,
  steps: number,
  opts: { wrongAt?: number; delta?: number; phrases?: number[] } = {},
): string[] {
  const out: string[] = [];
  let v = p.start;
  for (let j = 0; j < steps; j++) {
    let r = stepResult(p, j, v);
    if (j === opts.wrongAt) r += opts.delta ?? 1;
    out.push(writeOpStep(p.ops[j]!.kind, v, p.ops[j]!.operand, r, opts.phrases?.[j] ?? 0));
    v = r;
  }
  return out;
}

// Problems from the default world sorted by the simulator's own difficulty (a property of the text only).
const ROWS = generateProblems(world, 7, 200);
const models = new SimModels(world);
const BY_DIFFICULTY = [...ROWS].sort((a, b) => models.difficulty(parsed(a)) - models.difficulty(parsed(b)));

// ---------------------------------------------------------------------------------------------------------

describe("world schema", () => {
  it("validates worlds/default.json and fills defaults", () => {
    const r = parseWorld(rawDefault());
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.world.name).toBe("default");
      expect(r.world.large.parameters / r.world.base.parameters).toBeCloseTo(14, 0);
    }
    const noDescription = rawDefault();
    delete noDescription.description;
    const r2 = parseWorld(noDescription);
    expect(r2.ok && r2.world.description).toBe("");
  });

  const cases: [string, (w: Record<string, any>) => void, string][] = [
    ["a missing field", (w) => delete w.verifier.signal, "verifier.signal"],
    ["a missing section", (w) => delete w.reviser, "reviser"],
    ["a wrong type", (w) => (w.base.skill = "high"), "base.skill"],
    ["a wrong type (string for integer)", (w) => (w.problems.maxOps = "9"), "problems.maxOps"],
    ["a non-integer operation count", (w) => (w.problems.minOps = 2.5), "problems.minOps"],
    ["a negative rate", (w) => (w.degenerate.shortcutRate = -0.01), "degenerate.shortcutRate"],
    ["a negative share", (w) => (w.errors.commonMistakeShare = -0.1), "errors.commonMistakeShare"],
    ["a rate above 1", (w) => (w.reviser.trustRate = 1.5), "reviser.trustRate"],
    ["an unknown knob (a typo or a retired one)", (w) => (w.reviser.fixRateEasy = 0.5), "reviser"],
    ["a negative price", (w) => (w.large.outputPricePerMillion = -1), "large.outputPricePerMillion"],
    ["a negative latency", (w) => (w.latency.perCallMs = -5), "latency.perCallMs"],
    ["minOps > maxOps", (w) => ((w.problems.minOps = 7), (w.problems.maxOps = 3)), "problems.minOps"],
  ];
  for (const [what, mutate, path] of cases) {
    it(`rejects ${what}, naming ${path}`, () => {
      const w = rawDefault();
      mutate(w);
      const r = parseWorld(w);
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.error).toContain(path);
        expect(r.error).not.toContain("\n");
      }
    });
  }

  it("rejects documents that are not objects", () => {
    for (const doc of [null, 42, "default", [], {}]) expect(parseWorld(doc).ok).toBe(false);
  });
});

describe("problems", () => {
  it("are deterministic for a seed and differ between seeds", () => {
    expect(generateProblems(world, 11, 100)).toEqual(generateProblems(world, 11, 100));
    const other = generateProblems(world, 12, 100).map((r) => r.problem);
    const same = generateProblems(world, 11, 100).filter((r, i) => r.problem === other[i]).length;
    expect(same).toBeLessThan(5);
  });

  it("have unique texts and ids, in the MATH-500 shape", () => {
    const rows = generateProblems(world, 3, 600);
    expect(rows).toHaveLength(600);
    expect(new Set(rows.map((r) => r.problem)).size).toBe(600);
    expect(new Set(rows.map((r) => r.unique_id)).size).toBe(600);
    for (const r of rows) {
      expect(typeof r.unique_id).toBe("string");
      expect(typeof r.problem).toBe("string");
      expect(typeof r.answer).toBe("string");
      expect(r.answer).toMatch(/^-?\d+$/);
    }
  });

  it("follow the documented shape and parse back to their answer", () => {
    const shape =
      /^Start with -?\d+\. (?:(?:Add \d+|Subtract \d+|Multiply by \d+|Divide by \d+|Square it|Take the remainder when divided by \d+)\. )+What is the final number\?$/;
    for (const row of generateProblems(world, 5, 400)) {
      expect(row.problem).toMatch(shape);
      const p = parseProblem(row.problem);
      expect(p).not.toBeNull();
      expect(String(p!.answer)).toBe(row.answer);
      expect(p!.ops.length).toBeGreaterThanOrEqual(world.problems.minOps);
      expect(p!.ops.length).toBeLessThanOrEqual(world.problems.maxOps);
      expect(p!.values).toHaveLength(p!.ops.length);
      expect(p!.factor).toBeGreaterThanOrEqual(-1);
      expect(p!.factor).toBeLessThanOrEqual(1);
      // An independent reading of the text: every division is exact and the answer is what the text says.
      const sentences = row.problem.split(/(?<=[.?])\s+/);
      let v = Number(/^Start with (-?\d+)\.$/.exec(sentences[0]!)![1]);
      for (const s of sentences.slice(1, -1)) {
        const b = Number(/(\d+)\.$/.exec(s)?.[1] ?? 0);
        if (s.startsWith("Add")) v += b;
        else if (s.startsWith("Subtract")) v -= b;
        else if (s.startsWith("Multiply")) v *= b;
        else if (s.startsWith("Divide")) {
          expect(Math.abs(v % b)).toBe(0);
          v /= b;
        } else if (s === "Square it.") v *= v;
        else v = ((v % b) + b) % b;
        expect(Number.isSafeInteger(v)).toBe(true);
      }
      expect(String(v)).toBe(row.answer);
    }
  });

  it("parse text only: surrounding whitespace is ignored, foreign text is rejected", () => {
    const row = ROWS[0]!;
    expect(parseProblem(`  ${row.problem}\n`)?.answer).toBe(parsed(row).answer);
    expect(parseProblem("What is 1 + 1?")).toBeNull();
    expect(parseProblem("Start with 5. Jump twice. What is the final number?")).toBeNull();
    expect(parseProblem("Start with 5. Divide by 0. What is the final number?")).toBeNull();
  });

  it("have a difficulty that is a function of the text alone", () => {
    const fresh = new SimModels(loadDefault());
    for (const row of ROWS.slice(0, 50)) {
      const d = models.difficulty(parsed(row));
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(1);
      expect(fresh.difficulty(parseProblem(` ${row.problem} `)!)).toBe(d);
    }
  });
});

describe("generator: text only, no side channel", () => {
  const row = BY_DIFFICULTY[120]!; // a middling problem: samples vary
  const prompt = renderPrompt({ question: row.problem, prefix: [] });

  it("depends only on (model, prompt text, params): a fresh instance and unrelated calls in between change nothing", () => {
    const a = models.complete("base", prompt, params({ n: 8, seed: 42 }));
    const other = new SimModels(loadDefault());
    other.complete("base", renderPrompt({ question: ROWS[3]!.problem, prefix: [] }), params({ n: 5 }));
    other.score(ROWS[4]!.problem, ["Add 3: 1 + 3 = 4."]);
    const b = other.complete("base", prompt, params({ n: 8, seed: 42 }));
    expect(b).toEqual(a);
    expect(models.complete("base", prompt, params({ n: 8, seed: 42 }))).toEqual(a);
  });

  it("differs between seeds at temperature 0.8, and between models", () => {
    const hard = BY_DIFFICULTY[190]!;
    const p = renderPrompt({ question: hard.problem, prefix: [] });
    const a = models.complete("base", p, params({ n: 8, seed: 1 })).completions.map((c) => c.text);
    const b = models.complete("base", p, params({ n: 8, seed: 2 })).completions.map((c) => c.text);
    expect(a).not.toEqual(b);
    expect(new Set(a).size).toBeGreaterThan(1); // the n samples of one request differ too
    const large = models.complete("large", p, params({ n: 8, seed: 1 })).completions.map((c) => c.text);
    expect(large).not.toEqual(a);
  });

  it("ignores the seed at temperature 0", () => {
    for (const r of [BY_DIFFICULTY[10]!, BY_DIFFICULTY[190]!]) {
      const p = renderPrompt({ question: r.problem, prefix: [] });
      const a = models.complete("base", p, params({ n: 3, temperature: 0, seed: 1 }));
      const b = models.complete("base", p, params({ n: 3, temperature: 0, seed: 987654 }));
      expect(b).toEqual(a);
      expect(new Set(a.completions.map((c) => c.text)).size).toBe(1);
    }
  });

  it("writes whole solutions: one step per operation, blank lines between, a boxed answer last", () => {
    const easy = BY_DIFFICULTY[5]!;
    const p = parsed(easy);
    const text = models.complete(
      "base",
      renderPrompt({ question: easy.problem, prefix: [] }),
      params({ temperature: 0 }),
    ).completions[0]!.text;
    const steps = splitSteps(text);
    expect(text.split("\n\n")).toEqual(steps);
    expect(steps).toHaveLength(p.ops.length + 1);
    expect(steps.at(-1)).toContain("\\boxed{");
    expect(isRight(text, easy.answer)).toBe(true);
  });

  it("with oneStep returns exactly one step, from every point of a solution", () => {
    for (const r of [BY_DIFFICULTY[20]!, BY_DIFFICULTY[150]!, BY_DIFFICULTY[199]!]) {
      const p = parsed(r);
      const full = writeSolution(p, p.ops.length);
      for (let k = 0; k <= full.length; k++) {
        const res = models.complete(
          "base",
          renderPrompt({ question: r.problem, prefix: full.slice(0, k) }),
          params({ n: 16, oneStep: true, seed: k }),
        );
        for (const c of res.completions) {
          expect(c.text.length).toBeGreaterThan(0);
          expect(c.text).not.toMatch(/\n\s*\n/);
          expect(splitSteps(c.text)).toHaveLength(1);
        }
      }
      // After all operations, the one step is the final answer.
      const last = models.complete(
        "base",
        renderPrompt({ question: r.problem, prefix: full }),
        params({ temperature: 0, oneStep: true }),
      );
      expect(readStep(last.completions[0]!.text)).toEqual({ kind: "final", value: p.answer });
    }
  });

  it("continues from a prefix, and errors propagate from a wrong value", () => {
    const q = world.errors.commonMistakeShare;
    // Easy problems where temperature 0 takes the right result at every step (so the continuation is predictable).
    const easy = BY_DIFFICULTY.slice(0, 80).filter((r) => {
      const p = parsed(r);
      return p.ops.length >= 3 && p.ops.every((_, j) => models.errorLogit(p, j, world.base.skill) + Math.log(q) <= 0);
    });
    expect(easy.length).toBeGreaterThan(20);
    for (const r of easy.slice(0, 30)) {
      const p = parsed(r);
      const wrong = writeSolution(p, 1, { wrongAt: 0, delta: 7 });
      const wrongValue = stepResult(p, 0, p.start) + 7;
      // One step: computed from the wrong value.
      const next = models.complete(
        "base",
        renderPrompt({ question: r.problem, prefix: wrong }),
        params({ temperature: 0, oneStep: true }),
      ).completions[0]!.text;
      expect(readStep(next)).toEqual({ kind: "op", value: stepResult(p, 1, wrongValue) });
      expect(next).toContain(String(wrongValue));
      // The whole continuation: the wrong value carried to the end.
      let v = wrongValue;
      for (let j = 1; j < p.ops.length; j++) v = stepResult(p, j, v);
      const rest = models.complete(
        "base",
        renderPrompt({ question: r.problem, prefix: wrong }),
        params({ temperature: 0 }),
      ).completions[0]!.text;
      const steps = splitSteps(rest);
      expect(steps).toHaveLength(p.ops.length); // the remaining operations and the final answer
      expect(readStep(steps.at(-1)!)).toEqual({ kind: "final", value: v });
      expect(isRight(rest, r.answer)).toBe(v === p.answer);
      // From a correct prefix it reaches the right answer.
      const right = models.complete(
        "base",
        renderPrompt({ question: r.problem, prefix: writeSolution(p, 1) }),
        params({ temperature: 0 }),
      ).completions[0]!.text;
      expect(isRight(right, r.answer)).toBe(true);
    }
  });

  it("yields an empty continuation after a finished prefix", () => {
    const r = BY_DIFFICULTY[30]!;
    const p = parsed(r);
    const done = [...writeSolution(p, p.ops.length), writeFinalStep(p.answer, 0)];
    const early = [...writeSolution(p, 1), writeFinalStep(12345, 1)]; // a shortcut: boxed after one step
    for (const prefix of [done, early]) {
      for (const oneStep of [false, true]) {
        const res = models.complete("base", renderPrompt({ question: r.problem, prefix }), params({ n: 4, oneStep }));
        expect(res.completions.map((c) => c.text)).toEqual(["", "", "", ""]);
        expect(res.usage.completionTokens).toBe(0);
      }
    }
  });

  it("truncates at max_tokens with finishReason length", () => {
    const r = BY_DIFFICULTY[150]!;
    const prompt = renderPrompt({ question: r.problem, prefix: [] });
    const full = models.complete("base", prompt, params({ n: 4 }));
    for (const c of full.completions) expect(c.finishReason).toBe("stop");
    const cut = models.complete("base", prompt, params({ n: 4, maxTokens: 10 }));
    cut.completions.forEach((c, i) => {
      expect(c.finishReason).toBe("length");
      expect(countTokens(c.text)).toBeLessThanOrEqual(10);
      expect(full.completions[i]!.text.startsWith(c.text)).toBe(true);
      expect(c.text).not.toContain("\\boxed");
    });
    // A budget that fits exactly is not a truncation.
    const exact = countTokens(full.completions[0]!.text);
    expect(models.complete("base", prompt, params({ n: 1, maxTokens: exact })).completions[0]!.finishReason).toBe(
      "stop",
    );
  });

  it("reports usage as the sum of countTokens over the texts", () => {
    for (const [model, oneStep, maxTokens] of [
      ["base", false, 1024],
      ["large", true, 1024],
      ["base", false, 7],
    ] as [SimModelName, boolean, number][]) {
      const prompt = renderPrompt({ question: BY_DIFFICULTY[100]!.problem, prefix: [] });
      const res = models.complete(model, prompt, params({ n: 12, oneStep, maxTokens, seed: 9 }));
      expect(res.completions).toHaveLength(12);
      expect(res.usage.completionTokens).toBe(res.completions.reduce((s, c) => s + countTokens(c.text), 0));
      expect(res.usage.promptTokens).toBe(countTokens(prompt));
    }
  });

  it("writes no boxed answer for a prompt it cannot parse", () => {
    const prompts = [
      "hello",
      "",
      renderPrompt({ question: "What is the sum of the first 10 primes?", prefix: [] }),
      renderPrompt({ question: "Start with 5. Jump twice. What is the final number?", prefix: [] }),
    ];
    for (const prompt of prompts) {
      const res = models.complete("base", prompt, params({ n: 3 }));
      expect(res.completions).toHaveLength(3);
      for (const c of res.completions) {
        expect(c.text).not.toContain("\\boxed");
        expect(candidateFromCompletion(c).answer).toBeNull();
      }
    }
  });

  it("reads question, attempts and prefix back from a rendered prompt", () => {
    const r = ROWS[0]!;
    const p = parsed(r);
    const prefix = writeSolution(p, 2);
    const attempts = ["A.\n\nB.", "C.", "D.\n\n\\boxed{1}", "E.", "F."];
    const back = parsePrompt(renderPrompt({ question: r.problem, prefix, attempts }));
    expect(back?.question).toBe(r.problem);
    expect(back?.prefix).toEqual(prefix);
    // Only the most recent four are rendered.
    expect(back?.attempts).toEqual([["C."], ["D.", "\\boxed{1}"], ["E."], ["F."]]);
  });
});

describe("difficulty spread (about 200 problems, 64 samples each at temperature 0.8)", () => {
  const stats = BY_DIFFICULTY.map((row, i) => {
    const res = models.complete(
      "base",
      renderPrompt({ question: row.problem, prefix: [] }),
      params({ n: 64, seed: 1000 + i }),
    );
    const answers = res.completions.map((c) => candidateFromCompletion(c).answer);
    const right = answers.filter((a) => a !== null && answersEquivalent(a, row.answer)).length;
    const wrongCounts = new Map<string, number>();
    for (const a of answers)
      if (!(a !== null && answersEquivalent(a, row.answer)))
        wrongCounts.set(String(a), (wrongCounts.get(String(a)) ?? 0) + 1);
    return { row, pass: right / 64, topWrong: Math.max(0, ...wrongCounts.values()) / 64 };
  });

  it("spans ~0.95 on the easiest fifth to near 0 on the hardest, binned by measured pass@1 (oracle bins)", () => {
    const bins = fifths([...stats].sort((a, b) => b.pass - a.pass)).map((b) => mean(b.map((s) => s.pass)));
    // Measured: 0.95, 0.78, 0.46, 0.13, 0.01.
    expect(bins[0]).toBeGreaterThanOrEqual(0.9);
    expect(bins[4]).toBeLessThanOrEqual(0.1);
    for (let q = 1; q < 5; q++) expect(bins[q]).toBeLessThanOrEqual(bins[q - 1]!);
  });

  it("follows the text's difficulty: binned by SimModels.difficulty, the same spread holds", () => {
    const bins = fifths(stats).map((b) => mean(b.map((s) => s.pass)));
    // Measured: 0.94, 0.78, 0.42, 0.13, 0.06.
    expect(bins[0]).toBeGreaterThanOrEqual(0.9);
    expect(bins[4]).toBeLessThanOrEqual(0.1);
    expect(bins[0]! - bins[2]!).toBeGreaterThan(0.2);
    expect(bins[2]! - bins[4]!).toBeGreaterThan(0.2);
  });

  it("clusters wrong answers: on hard problems the top wrong answer is far more common than a random slip's", () => {
    // The same problems and seeds in a world where every mistake is a random slip.
    const raw = rawDefault();
    raw.errors.commonMistakeShare = 0;
    const r = parseWorld(raw);
    if (!r.ok) throw new Error(r.error);
    const slipsOnly = new SimModels(r.world);
    const hard = stats.slice(120); // hardest two fifths
    const slipTop = hard.map(({ row }, k) => {
      const i = 120 + k;
      const res = slipsOnly.complete(
        "base",
        renderPrompt({ question: row.problem, prefix: [] }),
        params({ n: 64, seed: 1000 + i }),
      );
      const counts = new Map<string, number>();
      for (const c of res.completions) {
        const a = candidateFromCompletion(c).answer;
        if (!(a !== null && answersEquivalent(a, row.answer))) counts.set(String(a), (counts.get(String(a)) ?? 0) + 1);
      }
      return Math.max(0, ...counts.values()) / 64;
    });
    const clustered = mean(hard.map((s) => s.topWrong));
    // Measured: 0.20 with clustering vs 0.08 with random slips only.
    expect(clustered).toBeGreaterThan(0.15);
    expect(clustered).toBeGreaterThan(2 * mean(slipTop));
    // A wrong answer out-votes the right one on a good share of the middle fifth, where the right one is often found.
    const middle = stats.slice(80, 120);
    expect(middle.filter((s) => s.topWrong > s.pass).length).toBeGreaterThanOrEqual(4);
  });
});

describe("PRM", () => {
  it("returns one score in [0,1] per step, deterministically from the text", () => {
    const other = new SimModels(loadDefault());
    for (const r of [BY_DIFFICULTY[3]!, BY_DIFFICULTY[100]!, BY_DIFFICULTY[199]!]) {
      const p = parsed(r);
      const variants = [
        [],
        writeSolution(p, 1),
        [...writeSolution(p, p.ops.length), writeFinalStep(p.answer, 0)],
        [
          ...writeSolution(p, 2, { wrongAt: 0 }),
          "Checking again: the value is still 3.",
          "Some words without numbers.",
        ],
        ...models
          .complete("base", renderPrompt({ question: r.problem, prefix: [] }), params({ n: 6 }))
          .completions.map((c) => splitSteps(c.text)),
      ];
      for (const steps of variants) {
        const s = models.score(r.problem, steps);
        expect(s).toHaveLength(steps.length);
        for (const x of s) {
          expect(x).toBeGreaterThanOrEqual(0);
          expect(x).toBeLessThanOrEqual(1);
        }
        expect(other.score(r.problem, steps)).toEqual(s);
        expect(models.score(r.problem, [...steps])).toEqual(s);
      }
    }
    // Text it cannot parse still gets one score per step.
    const s = models.score("What is the meaning of life?", ["It is 42.", "\\boxed{42}"]);
    expect(s).toHaveLength(2);
    for (const x of s) expect(x >= 0 && x <= 1).toBe(true);
  });

  it("scores a correct prefix above one whose first step is wrong (easiest two fifths)", () => {
    const easy = BY_DIFFICULTY.slice(0, 80);
    const good: number[] = [];
    const bad: number[] = [];
    let wins = 0;
    for (const r of easy) {
      const p = parsed(r);
      const k = Math.min(2, p.ops.length);
      const g = models.score(r.problem, writeSolution(p, k)).at(-1)!;
      for (const delta of [1, -10, 7]) {
        const b = models.score(r.problem, writeSolution(p, k, { wrongAt: 0, delta })).at(-1)!;
        good.push(g);
        bad.push(b);
        if (g > b) wins++;
      }
    }
    // Measured: a mean gap of about 0.6.
    expect(mean(good) - mean(bad)).toBeGreaterThan(0.25);
    expect(wins / good.length).toBeGreaterThan(0.75);
  });

  it("is noisier on harder problems (spread of scores for correct prefixes)", () => {
    // For each problem: the same correct two-step prefix in 16 wordings; only the noise differs between them.
    const spreads = BY_DIFFICULTY.map((r) => {
      const p = parsed(r);
      const k = Math.min(2, p.ops.length);
      const scores: number[] = [];
      for (let a = 0; a < 4; a++)
        for (let b = 0; b < 4; b++)
          scores.push(models.score(r.problem, writeSolution(p, k, { phrases: [a, b] })).at(-1)!);
      return { score: sd(scores), logit: sd(scores.map(logit)) };
    });
    const bins = fifths(spreads);
    const s = bins.map((b) => mean(b.map((x) => x.score)));
    const l = bins.map((b) => mean(b.map((x) => x.logit)));
    // Measured (score scale): 0.08, 0.07, 0.12, 0.19, 0.25; (logit scale): 0.82, 0.87, 1.01, 1.28, 1.94.
    expect(s[4]).toBeGreaterThan(2 * s[0]!);
    expect(l[4]).toBeGreaterThan(2 * l[0]!);
    expect(l[3]).toBeGreaterThan(l[1]!);
  });
});

describe("PRM: realistic, not perfect (sim-world.md §4)", () => {
  /** For each operation of a right solution: is the step's common mistake scored at least as high as the right step? */
  function fooledShare(rows: readonly DatasetRow[], m: SimModels): number {
    let fooled = 0;
    let total = 0;
    for (const r of rows) {
      const p = parsed(r);
      const prefix: string[] = [];
      let a = p.start;
      for (let j = 0; j < p.ops.length; j++) {
        const right = stepResult(p, j, a);
        const wrong = (
          m as unknown as { commonMistake(p: ParsedProblem, j: number, a: number, r: number): number }
        ).commonMistake(p, j, a, right);
        const op = p.ops[j]!;
        const sRight = m.score(r.problem, [...prefix, writeOpStep(op.kind, a, op.operand, right, 0)]).at(-1)!;
        const sWrong = m.score(r.problem, [...prefix, writeOpStep(op.kind, a, op.operand, wrong, 0)]).at(-1)!;
        total++;
        if (sWrong >= sRight) fooled++;
        prefix.push(writeOpStep(op.kind, a, op.operand, right, 0));
        a = right;
      }
    }
    return fooled / total;
  }

  it("is fooled by the generator's common mistakes, far more often on hard problems", () => {
    const easy = fooledShare(BY_DIFFICULTY.slice(0, 40), models);
    const hard = fooledShare(BY_DIFFICULTY.slice(120, 160), models);
    // Measured: 0.025 on the easiest fifth, 0.30 on the fourth.
    expect(easy).toBeGreaterThan(0);
    expect(hard).toBeGreaterThan(3 * easy);
  });

  it("is fooled less when its own arithmetic is better (its skill is what it checks with)", () => {
    const raw = rawDefault();
    raw.verifier.skill += 2;
    const r = parseWorld(raw);
    if (!r.ok) throw new Error(r.error);
    const rows = BY_DIFFICULTY.slice(80, 160);
    expect(fooledShare(rows, new SimModels(r.world))).toBeLessThan(fooledShare(rows, models));
  });

  it("makes correlated errors: two wordings of the same wrong solution score alike, more than independent noise allows", () => {
    const independent = (() => {
      const raw = rawDefault();
      raw.verifier.systematicShare = 0;
      const r = parseWorld(raw);
      if (!r.ok) throw new Error(r.error);
      return new SimModels(r.world);
    })();
    const correlation = (m: SimModels): number => {
      const xs: number[] = [];
      const ys: number[] = [];
      for (const r of BY_DIFFICULTY.slice(40, 200)) {
        const p = parsed(r);
        const k = Math.min(2, p.ops.length);
        xs.push(logit(m.score(r.problem, writeSolution(p, k, { wrongAt: 0, delta: 7, phrases: [0, 0] })).at(-1)!));
        ys.push(logit(m.score(r.problem, writeSolution(p, k, { wrongAt: 0, delta: 7, phrases: [1, 2] })).at(-1)!));
      }
      const mx = mean(xs);
      const my = mean(ys);
      const cov = mean(xs.map((x, i) => (x - mx) * (ys[i]! - my)));
      return cov / (sd(xs) * sd(ys));
    };
    // Measured: 0.59 with half the noise shared, 0.10 with none shared.
    expect(correlation(models)).toBeGreaterThan(correlation(independent) + 0.15);
  });

  it("ranks a problem's right samples above its wrong ones well but not perfectly, and worse on harder problems", async () => {
    const problems = generateProblems(world, 3, 150).map((r) => ({
      id: r.unique_id,
      question: r.problem,
      answer: r.answer,
    }));
    const d = await diagnoseWorld(world, problems, {
      seed: 3,
      oracleSamples: 64,
      scoredSamples: 32,
      chains: 1,
      chainLength: 1,
    });
    const auroc = d.bins.filter((b) => typeof b.bin === "number" && b.auroc !== null).map((b) => b.auroc!);
    // Measured (150 problems, 32 samples each): 0.97, 0.91, 0.81, 0.58, 0.38 by oracle bin.
    for (const a of auroc) expect(a).toBeLessThan(0.975);
    expect(auroc[0]! - auroc[auroc.length - 1]!).toBeGreaterThan(0.15);
  });
});

describe("revision model", () => {
  const easy = BY_DIFFICULTY.slice(0, 80);
  const hard = BY_DIFFICULTY.slice(120);

  /** For each problem: a sampled wrong and a sampled correct attempt (when 64 samples contain one). */
  function attemptsOf(
    rows: readonly DatasetRow[],
  ): { row: DatasetRow; wrong?: string; right?: string; scratch: number }[] {
    return rows.map((row, i) => {
      const texts = models
        .complete("base", renderPrompt({ question: row.problem, prefix: [] }), params({ n: 64, seed: 5000 + i }))
        .completions.map((c) => c.text);
      const fresh = models.complete(
        "base",
        renderPrompt({ question: row.problem, prefix: [] }),
        params({ n: 64, seed: 6000 + i }),
      ).completions;
      const out: { row: DatasetRow; wrong?: string; right?: string; scratch: number } = {
        row,
        scratch: mean(fresh.map((c) => (isRight(c.text, row.answer) ? 1 : 0))),
      };
      const wrong = texts.find((t) => !isRight(t, row.answer));
      const right = texts.find((t) => isRight(t, row.answer));
      if (wrong !== undefined) out.wrong = wrong;
      if (right !== undefined) out.right = right;
      return out;
    });
  }

  function revisionPass(row: DatasetRow, attempts: string[], seed: number): number {
    const res = models.complete(
      "reviser",
      renderPrompt({ question: row.problem, prefix: [], attempts }),
      params({ n: 64, seed }),
    );
    return mean(res.completions.map((c) => (isRight(c.text, row.answer) ? 1 : 0)));
  }

  const easyAttempts = attemptsOf(easy);
  const easyWrong = easyAttempts.filter((a) => a.wrong !== undefined);
  const easyRevisedFromWrong = easyWrong.map((a, i) => revisionPass(a.row, [a.wrong!], 7000 + i));

  it("fixes a wrong last attempt often on easy problems, rarely on hard ones", () => {
    expect(easyWrong.length).toBeGreaterThan(30);
    const hardWrong = attemptsOf(hard).filter((a) => a.wrong !== undefined);
    const hardRevised = hardWrong.map((a, i) => revisionPass(a.row, [a.wrong!], 8000 + i));
    // Measured: 0.62 on the easiest two fifths, 0.09 on the hardest two.
    expect(mean(easyRevisedFromWrong)).toBeGreaterThan(0.5);
    expect(mean(hardRevised)).toBeLessThan(mean(easyRevisedFromWrong) / 3);
  });

  // sim-world.md §5: its chance to fix a wrong step depends on its skill, as a generator's chance of a right step does.
  it("fixes more wrong attempts when it is more skilful (same attempts, same seeds)", () => {
    const raw = rawDefault();
    raw.reviser.skill += 1;
    const r = parseWorld(raw);
    if (!r.ok) throw new Error(r.error);
    const stronger = new SimModels(r.world);
    const strongerPass = easyWrong.map((a, i) => {
      const res = stronger.complete(
        "reviser",
        renderPrompt({ question: a.row.problem, prefix: [], attempts: [a.wrong!] }),
        params({ n: 64, seed: 7000 + i }),
      );
      return mean(res.completions.map((c) => (isRight(c.text, a.row.answer) ? 1 : 0)));
    });
    // Measured: 0.69 against 0.62.
    expect(mean(strongerPass)).toBeGreaterThan(mean(easyRevisedFromWrong) + 0.03);
  });

  // ... and on what is in its context: earlier attempts that agree with a step reassure it, one that differs makes it look.
  it("breaks a right answer less when earlier attempts agree with it, and fixes a wrong one more when an earlier attempt differs", () => {
    const withBoth = attemptsOf(BY_DIFFICULTY.slice(60, 140)).filter(
      (a) => a.right !== undefined && a.wrong !== undefined,
    );
    expect(withBoth.length).toBeGreaterThan(30);
    const pass = (attempts: string[], a: { row: DatasetRow }, seed: number): number =>
      revisionPass(a.row, attempts, seed);
    const keptAlone = mean(withBoth.map((a, i) => pass([a.right!], a, 11_000 + i)));
    const keptAgreed = mean(withBoth.map((a, i) => pass([a.right!, a.right!], a, 11_000 + i)));
    const fixedAlone = mean(withBoth.map((a, i) => pass([a.wrong!], a, 12_000 + i)));
    const fixedAfterRight = mean(withBoth.map((a, i) => pass([a.right!, a.wrong!], a, 12_000 + i)));
    // Measured: kept 0.52 alone, 0.63 with an agreeing attempt before it; fixed 0.34 alone, 0.43 after a right attempt.
    expect(keptAgreed).toBeGreaterThan(keptAlone);
    expect(fixedAfterRight).toBeGreaterThan(fixedAlone);
  });

  // sim-world.md §5: pass@1 rises along a chain of revisions.
  it("raises pass@1 along a chain of revisions (easy problems)", () => {
    const pass = [0, 0, 0, 0];
    easy.forEach((row, i) => {
      for (let c = 0; c < 8; c++) {
        const attempts: string[] = [];
        for (let pos = 0; pos < 4; pos++) {
          const model: SimModelName = pos === 0 ? "base" : "reviser";
          const text = models.complete(
            model,
            renderPrompt({ question: row.problem, prefix: [], attempts }),
            params({ seed: 100_000 + 1000 * i + 10 * c + pos }),
          ).completions[0]!.text;
          if (isRight(text, row.answer)) pass[pos]! += 1 / (8 * easy.length);
          attempts.push(text);
        }
      }
    });
    expect(pass[3]).toBeGreaterThan(pass[0]!);
  });

  it("sometimes breaks a correct last attempt, and keeps it most of the time on easy problems", () => {
    const withRight = easyAttempts.filter((a) => a.right !== undefined);
    expect(withRight.length).toBeGreaterThan(60);
    const kept = withRight.map((a, i) => revisionPass(a.row, [a.right!], 9000 + i));
    const broken = 1 - mean(kept);
    // Measured: 0.11 broken.
    expect(broken).toBeGreaterThan(0.03);
    expect(broken).toBeLessThan(0.5);
  });

  it("reads at most the last four attempts, from text only", () => {
    const a = easyWrong[0]!;
    const junk = ["Nothing here.", "Still nothing.", "Junk."];
    const withJunk = [...junk, "More junk.", "Even more junk.", a.wrong!];
    // The question and the last four attempts are all it sees: two prompts that show the same four attempts agree.
    const p1 = renderPrompt({ question: a.row.problem, prefix: [], attempts: withJunk });
    const p2 = renderPrompt({ question: a.row.problem, prefix: [], attempts: withJunk.slice(-4) });
    expect(p1).toBe(p2);
    expect(parsePrompt(p1)?.attempts).toHaveLength(4);
    const res1 = models.complete("reviser", p1, params({ n: 8, seed: 3 }));
    const res2 = new SimModels(loadDefault()).complete("reviser", p2, params({ n: 8, seed: 3 }));
    expect(res2).toEqual(res1);
  });
});

describe("alternative worlds", () => {
  const files = readdirSync(WORLDS_DIR)
    .filter((f) => f.endsWith(".json"))
    .sort();

  it("include default.json", () => {
    expect(files).toContain("default.json");
  });

  for (const file of files) {
    it(`${file} validates and generates solvable problems`, () => {
      const r = parseWorld(readJson(`${WORLDS_DIR}${file}`));
      if (!r.ok) throw new Error(`${file}: ${r.error}`);
      expect(r.world.name.length).toBeGreaterThan(0);
      const m = new SimModels(r.world);
      for (const row of generateProblems(r.world, 1, 20)) {
        const p = parsed(row);
        expect(String(p.answer)).toBe(row.answer);
        const res = m.complete("base", renderPrompt({ question: row.problem, prefix: [] }), params({ n: 2 }));
        expect(res.completions).toHaveLength(2);
        expect(m.score(row.problem, splitSteps(res.completions[0]!.text)).every((x) => x >= 0 && x <= 1)).toBe(true);
      }
    });
  }
});
