import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { aggregateScores, joinSteps, splitSteps, AGGREGATIONS } from "../src/engine/solutionSteps.js";
import { select, selectBest, selectHierarchical, selectMajority, selectWeighted } from "../src/engine/selection.js";
import type { Candidate } from "../src/engine/types.js";

/** A candidate whose last step boxes `answer` (or has no answer when null). */
function cand(answer: string | null, score?: number, extra: Partial<Candidate> = {}): Candidate {
  const steps = ["Work it out.", answer === null ? "I give up." : `So the answer is \\boxed{${answer}}.`];
  return { steps, answer, ...(score !== undefined ? { score, stepScores: [score] } : {}), ...extra };
}

describe("splitSteps", () => {
  it("splits on blank lines, including blank lines holding spaces or tabs", () => {
    expect(splitSteps("a\n\nb")).toEqual(["a", "b"]);
    expect(splitSteps("a\n   \nb\n\t\nc\n \t \nd")).toEqual(["a", "b", "c", "d"]);
  });

  it("trims each step and drops leading/trailing whitespace", () => {
    expect(splitSteps("  \n\n  first step  \n\n second \n\n\n")).toEqual(["first step", "second"]);
    expect(splitSteps("\t only \t")).toEqual(["only"]);
  });

  it("never yields empty steps (runs of blank lines, whitespace-only input)", () => {
    expect(splitSteps("a\n\n\n\n\nb")).toEqual(["a", "b"]);
    expect(splitSteps("a\n\n \n\n\t\n\nb")).toEqual(["a", "b"]);
    expect(splitSteps("")).toEqual([]);
    expect(splitSteps("   \n\n \n  ")).toEqual([]);
  });

  it("keeps single newlines inside a step", () => {
    expect(splitSteps("line 1\nline 2\n\nline 3")).toEqual(["line 1\nline 2", "line 3"]);
  });

  it("property: steps are non-empty and trimmed; join/split round-trips trimmed one-line steps", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom("a", "b", " ", "\t", "\n", "x", "1") }), (text) => {
        for (const s of splitSteps(text)) {
          expect(s.length).toBeGreaterThan(0);
          expect(s).toBe(s.trim());
        }
        // Splitting is idempotent over its own join.
        const once = splitSteps(text);
        expect(splitSteps(joinSteps(once))).toEqual(once);
      }),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(
        fc.array(
          fc
            .string({ minLength: 1, unit: fc.constantFrom("a", "b", " ", "7", "=") })
            .map((s) => s.trim())
            .filter((s) => s.length > 0),
          {
            maxLength: 6,
          },
        ),
        (steps) => {
          expect(splitSteps(joinSteps(steps))).toEqual(steps);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("aggregateScores", () => {
  const scores = [0.5, 0.2, 0.8];
  it("last / min / prod / mean", () => {
    expect(aggregateScores(scores, "last")).toBe(0.8);
    expect(aggregateScores(scores, "min")).toBe(0.2);
    expect(aggregateScores(scores, "prod")).toBeCloseTo(0.08, 12);
    expect(aggregateScores(scores, "mean")).toBeCloseTo(0.5, 12);
  });

  it("a single step aggregates to itself under every rule", () => {
    for (const how of AGGREGATIONS) expect(aggregateScores([0.37], how)).toBeCloseTo(0.37, 12);
  });

  it("empty input scores 0 under every rule", () => {
    for (const how of AGGREGATIONS) expect(aggregateScores([], how)).toBe(0);
  });

  it("property: every aggregation of scores in [0,1] stays in [0,1]; prod <= min <= mean", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 10 }), (xs) => {
        for (const how of AGGREGATIONS) {
          const v = aggregateScores(xs, how);
          expect(v).toBeGreaterThanOrEqual(0);
          expect(v).toBeLessThanOrEqual(1 + 1e-12);
        }
        expect(aggregateScores(xs, "prod")).toBeLessThanOrEqual(aggregateScores(xs, "min") + 1e-12);
        expect(aggregateScores(xs, "min")).toBeLessThanOrEqual(aggregateScores(xs, "mean") + 1e-12);
      }),
      { numRuns: 100 },
    );
  });
});

describe("selectMajority", () => {
  it("groups equivalent answers: 1/2, 0.5 and \\frac{1}{2} are one answer", () => {
    const cs = [cand("2"), cand("1/2"), cand("0.5"), cand("2"), cand("\\frac{1}{2}")];
    const out = selectMajority(cs);
    expect(out.answer).toBe("1/2"); // first-seen member of the winning group represents it
    expect(out.confidence).toBeCloseTo(3 / 5, 12);
    expect(out.candidates).toEqual(cs);
    expect(out.solution).toBe(joinSteps((cs[1] as Candidate).steps));
  });

  it("ignores null answers, also in the confidence denominator", () => {
    const out = selectMajority([cand(null), cand(null), cand(null), cand("3"), cand("4"), cand("3")]);
    expect(out.answer).toBe("3");
    expect(out.confidence).toBeCloseTo(2 / 3, 12);
  });

  it("no answers at all: null answer, null solution, confidence 0", () => {
    for (const cs of [[], [cand(null), cand(null)]]) {
      const out = selectMajority(cs);
      expect(out.answer).toBeNull();
      expect(out.solution).toBeNull();
      expect(out.confidence).toBe(0);
      expect(out.candidates).toEqual(cs);
    }
  });

  it("ties go to the answer seen first", () => {
    expect(selectMajority([cand("5"), cand("7"), cand("7"), cand("5")]).answer).toBe("5");
    expect(selectMajority([cand("7"), cand("5"), cand("5"), cand("7")]).answer).toBe("7");
    expect(selectMajority([cand(null), cand("9"), cand("8")]).answer).toBe("9");
  });

  it("ignores scores entirely", () => {
    const out = selectMajority([cand("1", 0.01), cand("1", 0.01), cand("2", 0.99)]);
    expect(out.answer).toBe("1");
    expect(out.confidence).toBeCloseTo(2 / 3, 12);
  });
});

describe("selectWeighted", () => {
  it("sums scores per answer; disagrees with majority when a rare answer is confidently scored", () => {
    const cs = [cand("1", 0.1), cand("1", 0.1), cand("1", 0.1), cand("2", 0.9)];
    expect(selectMajority(cs).answer).toBe("1");
    const out = selectWeighted(cs);
    expect(out.answer).toBe("2");
    expect(out.confidence).toBeCloseTo(0.9 / 1.2, 12);
  });

  it("groups equivalent answers when summing", () => {
    const cs = [cand("3", 0.5), cand("1/2", 0.2), cand("0.5", 0.2), cand("\\frac{1}{2}", 0.2)];
    const out = selectWeighted(cs);
    expect(["1/2", "0.5", "\\frac{1}{2}"]).toContain(out.answer);
    expect(out.confidence).toBeCloseTo(0.6 / 1.1, 12);
  });

  it("represents the winning answer by its highest-scoring candidate", () => {
    const hi = cand("0.5", 0.6, { steps: ["high", "\\boxed{0.5}"] });
    const cs = [cand("1/2", 0.2), hi, cand("7", 0.7)];
    const out = selectWeighted(cs);
    expect(out.answer).toBe("0.5");
    expect(out.solution).toBe("high\n\n\\boxed{0.5}");
  });

  it("null answers are ignored even when highly scored", () => {
    const out = selectWeighted([cand(null, 0.99), cand("4", 0.2)]);
    expect(out.answer).toBe("4");
    expect(out.confidence).toBe(1);
  });

  it("ties go to the answer seen first", () => {
    expect(selectWeighted([cand("1", 0.25), cand("2", 0.5), cand("1", 0.25)]).answer).toBe("1");
    expect(selectWeighted([cand("2", 0.5), cand("1", 0.25), cand("1", 0.25)]).answer).toBe("2");
  });

  it("unscored candidates weigh 0; all-zero weights give the first answer with confidence 0", () => {
    const out = selectWeighted([cand("6"), cand("5"), cand("5")]);
    expect(out.answer).toBe("6");
    expect(out.confidence).toBe(0);
  });

  it("property: confidence is winner weight / total weight, in [0, 1], and no group outweighs the winner", () => {
    const answers = ["1", "2", "0.5", "1/2", "3", null];
    fc.assert(
      fc.property(
        fc.array(fc.record({ a: fc.constantFrom(...answers), s: fc.double({ min: 0, max: 1, noNaN: true }) }), {
          minLength: 1,
          maxLength: 12,
        }),
        (rows) => {
          const cs = rows.map((r) => cand(r.a, r.s));
          const out = selectWeighted(cs);
          const key = (a: string) => (a === "0.5" || a === "1/2" ? "half" : a);
          const weights = new Map<string, number>();
          let total = 0;
          for (const c of cs) {
            if (c.answer === null) continue;
            weights.set(key(c.answer), (weights.get(key(c.answer)) ?? 0) + (c.score ?? 0));
            total += c.score ?? 0;
          }
          if (weights.size === 0) {
            expect(out.answer).toBeNull();
            return;
          }
          expect(out.answer).not.toBeNull();
          const w = weights.get(key(out.answer as string)) as number;
          for (const other of weights.values()) expect(other).toBeLessThanOrEqual(w + 1e-12);
          expect(out.confidence).toBeCloseTo(total > 0 ? w / total : 0, 9);
          expect(out.confidence).toBeGreaterThanOrEqual(0);
          expect(out.confidence).toBeLessThanOrEqual(1 + 1e-12);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("selectBest", () => {
  it("takes the single highest-scoring candidate, not the heaviest group", () => {
    const cs = [
      cand("1", 0.2),
      cand("1", 0.2),
      cand("1", 0.2),
      cand("1", 0.2),
      cand("2", 0.5),
      cand("3", 0.6, { steps: ["top", "\\boxed{3}"] }),
    ];
    expect(selectWeighted(cs).answer).toBe("1");
    const out = selectBest(cs);
    expect(out.answer).toBe("3");
    expect(out.solution).toBe("top\n\n\\boxed{3}");
    // Confidence is still the winner's group weight over the total weight.
    expect(out.confidence).toBeCloseTo(0.6 / 1.9, 12);
  });

  it("confidence counts equivalent answers of the winner", () => {
    const cs = [cand("0.5", 0.9), cand("1/2", 0.3), cand("4", 0.3)];
    const out = selectBest(cs);
    expect(out.answer).toBe("0.5");
    expect(out.confidence).toBeCloseTo(1.2 / 1.5, 12);
  });

  it("ignores null answers; ties go to the first seen; nothing to choose gives null", () => {
    expect(selectBest([cand(null, 1), cand("8", 0.1)]).answer).toBe("8");
    expect(selectBest([cand("8", 0.4), cand("9", 0.4)]).answer).toBe("8");
    const none = selectBest([cand(null, 0.9)]);
    expect(none.answer).toBeNull();
    expect(none.confidence).toBe(0);
  });

  it("select() dispatches by rule", () => {
    // majority: "1" (3 votes); weighted: "2" (0.5); best: "3" (0.4 alone).
    const cs = [cand("1", 0.1), cand("1", 0.1), cand("1", 0.1), cand("2", 0.25), cand("2", 0.25), cand("3", 0.4)];
    expect(select("majority", cs).answer).toBe("1");
    expect(select("weighted", cs).answer).toBe("2");
    expect(select("best", cs).answer).toBe("3");
  });
});

describe("selectHierarchical", () => {
  // chain 0: weighted within the chain picks "3" (0.30 + 0.35 > 0.5); its best "3" candidate scores 0.35.
  // chain 1: "3" at 0.10. chain 2: "7" at 0.40.
  // Across chains: "3" = 0.35 + 0.10 = 0.45 beats "7" = 0.40. A flat weighted vote would pick "7" (0.9 vs 0.75).
  const c0a = cand("3", 0.3, { chain: 0, position: 0 });
  const c0b = cand("7", 0.5, { chain: 0, position: 1 });
  const c0c = cand("3", 0.35, { chain: 0, position: 2, steps: ["chain zero best", "\\boxed{3}"] });
  const c1 = cand("3", 0.1, { chain: 1, position: 0 });
  const c2 = cand("7", 0.4, { chain: 2, position: 0 });
  const all = [c2, c0a, c1, c0b, c0c];

  it("picks per-chain winners, then a weighted vote across chains", () => {
    expect(selectWeighted(all).answer).toBe("7");
    const out = selectHierarchical(all);
    expect(out.answer).toBe("3");
    expect(out.solution).toBe("chain zero best\n\n\\boxed{3}");
    expect(out.confidence).toBeCloseTo(0.45 / 0.85, 12);
    expect(out.candidates).toEqual(all);
  });

  it("a chain's representative is its top-scoring candidate with the chain's winning answer", () => {
    // chain 0 alone: "3" wins within the chain, represented by the 0.35 attempt, not the 0.5 "7" attempt.
    const out = selectHierarchical([c0a, c0b, c0c]);
    expect(out.answer).toBe("3");
    expect(out.confidence).toBe(1);
    expect(out.solution).toBe("chain zero best\n\n\\boxed{3}");
  });

  it("chains without any answer are skipped; nothing at all gives null", () => {
    const out = selectHierarchical([cand(null, 0.9, { chain: 0 }), cand("5", 0.2, { chain: 1 })]);
    expect(out.answer).toBe("5");
    expect(out.confidence).toBe(1);
    const none = selectHierarchical([cand(null, 0.9, { chain: 0 })]);
    expect(none.answer).toBeNull();
    expect(none.confidence).toBe(0);
  });

  it("equivalent answers are one answer across chains", () => {
    const out = selectHierarchical([
      cand("0.5", 0.3, { chain: 0 }),
      cand("1/2", 0.3, { chain: 1 }),
      cand("2", 0.5, { chain: 2 }),
    ]);
    expect(answerIsHalf(out.answer)).toBe(true);
    expect(out.confidence).toBeCloseTo(0.6 / 1.1, 12);
  });

  it("ties across chains go to the lowest chain index", () => {
    const out = selectHierarchical([cand("9", 0.4, { chain: 1 }), cand("8", 0.4, { chain: 0 })]);
    expect(out.answer).toBe("8");
  });
});

function answerIsHalf(a: string | null): boolean {
  return a === "0.5" || a === "1/2" || a === "\\frac{1}{2}";
}
