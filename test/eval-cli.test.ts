/**
 * The evaluation CLI (scripts/eval.ts) as a user runs it: bad input is refused with exit code 2, one line on
 * stderr and nothing written (including seeds that do not parse, a gold answer that cannot grade and a
 * dataset the simulated world cannot read); the same arguments give byte-identical results.json whatever
 * the thread count; several seeds give a summary beside each seed's own files; a MATH-500 shaped JSONL of
 * simulated problems is accepted. Each case runs the command's main in process.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { generateProblems } from "../src/sim/problems";
import { parseWorld } from "../src/sim/world";
import { evalCommand } from "../scripts/eval";
import { runCommand, type CliRun } from "./support/cli";

const REPO = fileURLToPath(new URL("..", import.meta.url));
const TMP = mkdtempSync(join(tmpdir(), "eval-cli-test-"));

afterAll(() => rmSync(TMP, { recursive: true, force: true }));

function runEval(args: string[]): Promise<CliRun> {
  return runCommand(evalCommand, args);
}

function stderrLines(r: CliRun): string[] {
  return r.stderr.split("\n").filter((l) => l.length > 0);
}

const DEFAULT_WORLD_TEXT = readFileSync(join(REPO, "worlds/default.json"), "utf8");

// Input files for the bad-input cases.
const files = {
  invalidWorld: join(TMP, "invalid-world.json"),
  typoWorld: join(TMP, "typo-world.json"),
  notJsonWorld: join(TMP, "not-json-world.json"),
  missingWorld: join(TMP, "no-such-world.json"),
  badDataset: join(TMP, "bad.jsonl"),
  ungradable: join(TMP, "ungradable.jsonl"),
  realProblems: join(TMP, "real-problems.jsonl"),
};
{
  const w = JSON.parse(DEFAULT_WORLD_TEXT);
  w.verifier.signal = "strong";
  writeFileSync(files.invalidWorld, JSON.stringify(w, null, 2));
  // A hand-edited world with a typo: multi-line, like any real world file.
  writeFileSync(files.typoWorld, DEFAULT_WORLD_TEXT.replace(/"maxOps": \d+/, '"maxOps": nine'));
  writeFileSync(files.notJsonWorld, "this is not json");
  writeFileSync(
    files.badDataset,
    [
      JSON.stringify({ unique_id: "a", problem: "Start with 5. Add 3. What is the final number?", answer: "8" }),
      JSON.stringify({ unique_id: "b", problem: "Start with 6. Add 3. What is the final number?" }),
      JSON.stringify({ unique_id: "c", problem: "Start with 7. Add 3. What is the final number?", answer: "10" }),
    ].join("\n") + "\n",
  );
  writeFileSync(
    files.ungradable,
    [
      JSON.stringify({ unique_id: "a", problem: "Start with 5. Add 3. What is the final number?", answer: "8" }),
      JSON.stringify({ unique_id: "b", problem: "Start with 6. Add 3. What is the final number?", answer: "$$" }),
    ].join("\n") + "\n",
  );
  // MATH-500 rows: real problems the simulated world cannot read (it would score them 0 and say nothing).
  writeFileSync(
    files.realProblems,
    [
      JSON.stringify({
        problem: "What is $\\frac{1}{2} + \\frac{1}{3}$?",
        solution: "",
        answer: "\\frac{5}{6}",
        subject: "Algebra",
        level: 2,
        unique_id: "test/algebra/1.json",
      }),
      JSON.stringify({ problem: "Start with 5. Add 3. What is the final number?", answer: "8", unique_id: "sim/1" }),
      JSON.stringify({
        problem: "How many positive divisors does 6 have?",
        solution: "",
        answer: "4",
        subject: "Number Theory",
        level: 1,
        unique_id: "test/number_theory/2.json",
      }),
    ].join("\n") + "\n",
  );
}

interface BadCase {
  name: string;
  args: string[];
  /** What the stderr line must mention. */
  names: RegExp[];
}

const BAD: BadCase[] = [
  { name: "an unknown strategy", args: ["--strategies", "foo"], names: [/--strategies/, /"foo"/] },
  { name: "a zero budget", args: ["--budgets", "0"], names: [/--budgets/, /"0"/] },
  { name: "a budget that is not a number", args: ["--budgets", "4,x"], names: [/--budgets/, /"x"/] },
  {
    name: "a budget DVTS cannot divide (N=16, M=3)",
    args: ["--strategies", "dvts:M=3", "--budgets", "16"],
    names: [/dvts:M=3/, /divisible/],
  },
  {
    name: "a world file that does not validate",
    args: ["--world", files.invalidWorld],
    names: [/--world/, /verifier\.signal/],
  },
  {
    name: "a world file that is not JSON (one line)",
    args: ["--world", files.notJsonWorld],
    names: [/--world/, /not valid JSON/],
  },
  {
    name: "a world file that is not JSON (a typo in a multi-line file)",
    args: ["--world", files.typoWorld],
    names: [/--world/, /not valid JSON/],
  },
  { name: "a missing world file", args: ["--world", files.missingWorld], names: [/--world/, /no such file/] },
  {
    name: "a dataset with a bad line",
    args: ["--dataset", files.badDataset],
    names: [/--dataset/, /line 2/, /answer/],
  },
  {
    name: "a dataset row whose gold answer cannot grade",
    args: ["--dataset", files.ungradable],
    names: [/--dataset/, /line 2/, /gold answer/, /normalises to nothing/],
  },
  {
    name: "a dataset the simulated world cannot read (MATH-500 problems)",
    args: ["--dataset", files.realProblems],
    names: [/--dataset/, /reads only its own generated problems/, /2 of 3 rows/, /real providers/],
  },
  { name: "seeds with an empty entry and a word (1,,x)", args: ["--seeds", "1,,x"], names: [/--seeds/, /empty entry/] },
  { name: "a negative seed", args: ["--seeds=-1"], names: [/--seeds/, /"-1"/] },
  { name: "both --seed and --seeds", args: ["--seed", "1", "--seeds", "2,3"], names: [/--seed and --seeds/] },
  { name: "an unknown flag", args: ["--frobnicate", "3"], names: [/frobnicate/] },
];

/** Small settings, so that a run that wrongly went ahead would still end quickly. */
const SMALL: Record<string, string> = {
  "--problems": "10",
  "--oracle-samples": "4",
  "--threads": "1",
  "--strategies": "best-of-n",
  "--budgets": "1",
};

let badRuns = 0;
async function badRun(c: BadCase): Promise<{ r: CliRun; out: string }> {
  const out = join(TMP, `out-bad-${badRuns++}`);
  const args = [...c.args];
  for (const [flag, value] of Object.entries(SMALL)) if (!args.includes(flag)) args.push(flag, value);
  args.push("--out", out);
  return { r: await runEval(args), out };
}

describe("eval CLI: bad input", () => {
  for (const c of BAD) {
    it(`refuses ${c.name}: exit 2, one line on stderr, nothing written`, async () => {
      const { r, out } = await badRun(c);
      expect(r.status, r.stderr).toBe(2);
      const lines = stderrLines(r);
      expect(lines, r.stderr).toHaveLength(1);
      for (const re of c.names) expect(lines[0]).toMatch(re);
      expect(r.stdout).toBe("");
      expect(existsSync(out)).toBe(false);
    });
  }
});

describe("eval CLI: determinism and outputs", () => {
  const TINY = [
    "--problems",
    "12",
    "--budgets",
    "1,4",
    "--strategies",
    "best-of-n,majority,beam:M=4",
    "--oracle-samples",
    "16",
    "--seed",
    "3",
  ];

  it("gives byte-identical results.json for the same arguments, with 1 or 2 threads", async () => {
    const dirs = { a: join(TMP, "det-a"), b: join(TMP, "det-b"), c: join(TMP, "det-c") };
    const ra = await runEval([...TINY, "--threads", "1", "--out", dirs.a]);
    const rb = await runEval([...TINY, "--threads", "1", "--out", dirs.b]);
    const rc = await runEval([...TINY, "--threads", "2", "--out", dirs.c]);
    for (const r of [ra, rb, rc]) expect(r.status, r.stderr).toBe(0);

    const json = (d: string): Buffer => readFileSync(join(d, "results.json"));
    expect(json(dirs.b).equals(json(dirs.a))).toBe(true);
    expect(json(dirs.c).equals(json(dirs.a))).toBe(true);
    expect(readFileSync(join(dirs.c, "results.csv")).equals(readFileSync(join(dirs.a, "results.csv")))).toBe(true);

    // The other outputs exist, and no temporary file is left behind.
    for (const d of Object.values(dirs)) {
      const names = readdirSync(d);
      expect(names).toContain("results.csv");
      expect(names.filter((n) => n.endsWith(".svg")).length).toBeGreaterThanOrEqual(1);
      expect(names.filter((n) => n.endsWith(".tmp"))).toEqual([]);
      for (const n of names) expect(statSync(join(d, n)).size).toBeGreaterThan(0);
    }
    for (const svg of readdirSync(dirs.a).filter((n) => n.endsWith(".svg"))) {
      const text = readFileSync(join(dirs.a, svg), "utf8");
      expect(text).toMatch(/^<svg|^<\?xml/);
      expect(text.trimEnd().endsWith("</svg>")).toBe(true);
    }
    const csv = readFileSync(join(dirs.a, "results.csv"), "utf8").trim().split("\n");
    expect(csv[0]).toMatch(/accuracy/);

    // The shape of results.json.
    const res = JSON.parse(json(dirs.a).toString("utf8"));
    expect(res.meta).toMatchObject({
      world: "default",
      seed: 3,
      problems: 12,
      dataset: "generated",
      budgets: [1, 4],
      oracleSamples: 16,
    });
    expect(res.meta.strategies).toEqual(["best-of-n", "majority", "beam:M=4"]);
    expect(res.oracle).toHaveLength(5);
    expect(res.oracle.map((b: { bin: number }) => b.bin)).toEqual([1, 2, 3, 4, 5]);
    expect(res.oracle.reduce((s: number, b: { count: number }) => s + b.count, 0)).toBe(12);
    for (let i = 1; i < 5; i++) expect(res.oracle[i].meanPassAt1).toBeLessThanOrEqual(res.oracle[i - 1].meanPassAt1); // bin 1 easiest
    expect(res.rows.length).toBeGreaterThan(0);
    for (const row of res.rows) {
      for (const k of ["accuracy", "lo", "hi", "count"]) expect(typeof row[k]).toBe("number");
      expect(row.lo).toBeLessThanOrEqual(row.accuracy);
      expect(row.accuracy).toBeLessThanOrEqual(row.hi);
      expect(row.lo).toBeGreaterThanOrEqual(0);
      expect(row.hi).toBeLessThanOrEqual(1);
    }
    // Every strategy at every budget has an overall row over all 12 problems (beam M=4 has none at N=1).
    const overall = res.rows.filter((r: { bin: unknown }) => r.bin === "all");
    for (const r of overall) expect(r.count).toBe(12);
    const key = (r: { strategy: string; budget: number }): string => `${r.strategy}@${r.budget}`;
    expect(new Set(overall.map(key))).toEqual(
      new Set(["best-of-n@1", "best-of-n@4", "majority@1", "majority@4", "beam:M=4@4"]),
    );
    expect(Array.isArray(res.computeOptimal) && res.computeOptimal.length).toBeGreaterThan(0);
    expect(res.efficiency.map((e: { n: number }) => e.n)).toEqual([1, 4]);
    expect(ra.stdout).toMatch(/wrote .*results\.json/);

    // Efficiency in every unit users pay for: generations (the paper's) and tokens, FLOPs, dollars (cost-matched).
    for (const e of res.efficiency) expect(e.unit).toBe("generations");
    const units = (xs: { unit: string }[]): string[] => [...new Set(xs.map((x) => x.unit))];
    expect(units(res.costEfficiency)).toEqual(["tokens", "flops", "money"]);
    for (const e of [...res.efficiency, ...res.costEfficiency]) {
      expect(["measured", "not reached", "not measurable"]).toContain(e.status);
      if (e.status === "measured") expect(e.ratio).toBeGreaterThan(0);
      else expect(e.ratio).toBeNull();
      if (e.status === "not measurable") expect(e.note).toMatch(/floor|ceiling/);
    }
    // Cost-matched curves: a dense grid (steps of 2^(1/4)) with the held-out spend beside each budget C.
    expect(units(res.costOptimal)).toEqual(["tokens", "flops", "money"]);
    const tokenCurve = res.costOptimal.filter(
      (r: { unit: string; bin: unknown }) => r.unit === "tokens" && r.bin === "all",
    );
    expect(tokenCurve.length).toBeGreaterThan(4);
    for (let i = 1; i < tokenCurve.length; i++)
      expect(tokenCurve[i].budget / tokenCurve[i - 1].budget).toBeCloseTo(2 ** 0.25, 4);
    for (const r of tokenCurve) {
      expect(r.spent).toBeGreaterThan(0);
      expect(r.spent).toBeCloseTo(r.meanTokens, 0);
    }
    for (const r of res.computeOptimal)
      for (const k of ["meanGenerations", "meanTokens", "meanFlops", "meanMoney"]) expect(typeof r[k]).toBe("number");
    const names = readdirSync(dirs.a);
    for (const f of ["cost-optimal.csv", "efficiency.csv", "cost.svg"]) expect(names).toContain(f);
    expect(readFileSync(join(dirs.a, "efficiency.csv"), "utf8").split("\n")[0]).toMatch(/unit,n,/);
    expect(ra.stdout).toMatch(/tokens \(cost-matched\)/);
    expect(ra.stdout).toMatch(/dollars \(cost-matched\)/);
    // Every property is reported with a verdict and what decided it.
    expect(res.properties).toHaveLength(7);
    for (const p of res.properties) {
      expect(["holds", "fails", "not measurable"]).toContain(p.verdict);
      expect(p.decidedBy.length).toBeGreaterThan(0);
    }
  });
});

describe("eval CLI: several seeds", () => {
  it("--seeds 3,4: each seed's files are exactly the single-seed run's, beside a summary with median and range", async () => {
    const args = [
      "--problems",
      "12",
      "--budgets",
      "1,4",
      "--strategies",
      "best-of-n,majority,beam:M=4",
      "--oracle-samples",
      "8",
      "--threads",
      "1",
      "--resamples",
      "20",
    ];
    const single = join(TMP, "seed-single");
    const multi = join(TMP, "seed-multi");
    const r1 = await runEval([...args, "--seed", "4", "--out", single]);
    const r2 = await runEval([...args, "--seeds", "3,4,4", "--out", multi]);
    expect(r1.status, r1.stderr).toBe(0);
    expect(r2.status, r2.stderr).toBe(0);
    expect(readFileSync(join(multi, "seed-4/results.json")).equals(readFileSync(join(single, "results.json")))).toBe(
      true,
    );
    expect(existsSync(join(multi, "seed-3/cost.svg"))).toBe(true);
    const res = JSON.parse(readFileSync(join(multi, "results.json"), "utf8"));
    expect(res.meta.seeds).toEqual([3, 4]); // the duplicate is dropped
    expect(res.summary.seeds).toEqual([3, 4]);
    expect(res.perSeed.map((s: { seed: number }) => s.seed)).toEqual([3, 4]);
    const e = res.summary.efficiency.find((x: { unit: string; n: number }) => x.unit === "tokens" && x.n === 4);
    expect(e.perSeed).toHaveLength(2);
    expect(Object.keys(e.ratio)).toEqual(expect.arrayContaining(["median", "min", "max", "values"]));
    if (e.ratio.median !== null) expect(e.ratio.min).toBeLessThanOrEqual(e.ratio.max);
    expect(res.properties).toHaveLength(7);
    for (const p of res.properties) expect(p.seeds).toBe(2);
    expect(r2.stdout).toMatch(/median \[range\] over seeds 3,4/);
  });
});

describe("eval CLI: --dataset", () => {
  it("runs on a small MATH-500 shaped JSONL of simulated problems (answers as strings, extra fields, a blank line)", async () => {
    const r = parseWorld(JSON.parse(DEFAULT_WORLD_TEXT));
    if (!r.ok) throw new Error(r.error);
    const rows: Record<string, unknown>[] = generateProblems(r.world, 21, 10).map((p, i) => ({
      problem: p.problem,
      solution: "(not used)",
      answer: p.answer,
      subject: "Prealgebra",
      level: 1 + (i % 5),
      unique_id: `test/prealgebra/${100 + i}.json`,
    }));
    const file = join(TMP, "math500-like.jsonl");
    writeFileSync(file, rows.map((x) => JSON.stringify(x)).join("\n") + "\n\n");
    const out = join(TMP, "dataset-out");
    mkdirSync(out, { recursive: true }); // an existing directory is fine
    const run = await runEval([
      "--dataset",
      file,
      "--budgets",
      "1,4",
      "--strategies",
      "best-of-n,majority",
      "--oracle-samples",
      "16",
      "--threads",
      "1",
      "--seed",
      "3",
      "--resamples",
      "20",
      "--out",
      out,
    ]);
    expect(run.status, run.stderr).toBe(0);
    const res = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
    expect(res.meta.dataset).toBe(file);
    expect(res.meta.problems).toBe(10);
    expect(res.oracle.reduce((s: number, b: { count: number }) => s + b.count, 0)).toBe(10);
    const overall = res.rows.filter((x: { bin: unknown }) => x.bin === "all");
    expect(overall.length).toBe(4);
    for (const x of overall) expect(x.count).toBe(10);
  });
});
