import { describe, it, expect } from "vitest";
import { extractAnswer, normalizeAnswer, answerKey, answersEquivalent, parseNumber } from "../src/engine/answers.js";

// [model output, expected extracted answer]
const extractionCases: ReadonlyArray<readonly [string, string | null]> = [
  ["So the result is $\\boxed{42}$.", "42"],
  ["\\boxed{\\frac{1}{2}}", "\\frac{1}{2}"],
  ["nested \\boxed{\\frac{\\sqrt{3}}{2}} done", "\\frac{\\sqrt{3}}{2}"],
  ["first \\boxed{1}, then corrected: \\boxed{2}", "2"],
  ["space variant \\boxed {7}", "7"],
  ["fbox variant \\fbox{x+1}", "x+1"],
  ["set \\boxed{\\{1, 2\\}}", "\\{1, 2\\}"],
  ["\\boxed{ 3 }", "3"],
  ["truncated \\boxed{\\frac{1}{2}", null],
  ["earlier \\boxed{1} but last box truncated \\boxed{2", null],
  ["empty \\boxed{}", null],
  ["blank \\boxed{   }", null],
  ["nothing to see here", null],
  ["", null],
  ["Thus, the answer is 5.", "5"],
  ["The answer is $\\frac{3}{4}$.", "\\frac{3}{4}"],
  ["The answer is $\\frac{3}{4}.$", "\\frac{3}{4}"],
  ["The final answer is $12.$ I hope it is correct.", "12"],
  ["THE ANSWER IS 3.5.", "3.5"],
  ["The answer is: 12", "12"],
  ["The final answer is $-2$", "-2"],
  ["Final answer: 17", "17"],
  ["Final Answer: The final answer is 9. I hope it is correct.", "9"],
  ["Final Answer: The final answer is $\\frac{1}{2}$. I hope it is correct.", "\\frac{1}{2}"],
  ["The answer is 2.5. Done.", "2.5"],
  ["The answer is 3.\nWait, no. The answer is 4.", "4"],
  ["The answer is **8**.", "8"],
  ["The answer is \\(x^2\\)", "x^2"],
  ["The answer is", null],
  ["The answer is $5", "5"],
  ["The answer is 1 but \\boxed{2}", "2"],
  ["\\boxedx is not a box; the answer is 6", "6"],
];

// [raw answer, expected normalised string]
const normalizationCases: ReadonlyArray<readonly [string, string]> = [
  ["42", "42"],
  ["007", "7"],
  ["-0", "0"],
  ["-0.0", "0"],
  ["+5", "5"],
  ["12.0", "12"],
  ["12.00", "12"],
  ["12.50", "12.5"],
  [".5", "0.5"],
  ["-.25", "-0.25"],
  ["5.", "5"],
  ["  3  ", "3"],
  ["$3$", "3"],
  ["$$3$$", "3"],
  ["\\(3\\)", "3"],
  ["\\[3\\]", "3"],
  ["\\boxed{3}", "3"],
  ["\\dfrac{1}{2}", "\\frac{1}{2}"],
  ["\\tfrac{1}{2}", "\\frac{1}{2}"],
  ["\\frac12", "\\frac{1}{2}"],
  ["\\frac 1 2", "\\frac{1}{2}"],
  ["\\frac1{x}", "\\frac{1}{x}"],
  ["\\frac{\\sqrt3}2", "\\frac{\\sqrt{3}}{2}"],
  ["\\sqrt2", "\\sqrt{2}"],
  ["5 \\text{ cm}", "5"],
  ["5\\text{ cm}^2", "5"],
  ["5 \\mbox{ inches}", "5"],
  ["10\\text{ m}\\text{/s}", "10"],
  ["\\text{(A)}", "A"],
  ["\\textbf{(C)}", "C"],
  ["(B)", "B"],
  ["\\text{Evelyn}", "Evelyn"],
  ["2 \\text{ or } 3", "2or3"],
  ["30^\\circ", "30"],
  ["30^{\\circ}", "30"],
  ["30 ^ { \\circ }", "30"],
  ["30°", "30"],
  ["30\\degree", "30"],
  ["50\\%", "50"],
  ["50%", "50"],
  ["\\$1,000", "1000"],
  ["1,000,000", "1000000"],
  ["1{,}000", "1000"],
  ["1 000", "1000"],
  ["-12 345 678.5", "-12345678.5"],
  ["1,\\!234,\\!567", "1234567"],
  // A space after the ",\!" separator (peers' graders accept it): still one number, not a list.
  ["11,\\! 111,\\! 100", "11111100"],
  ["\\$1,\\! 000", "1000"],
  ["(1,\\! 2)", "(1, 2)"],
  ["1 2", "1 2"],
  ["-1,234.50", "-1234.5"],
  ["(1,2)", "(1, 2)"],
  ["(1,000)", "(1, 000)"],
  ["1, 000", "1, 000"],
  ["1,2", "1, 2"],
  ["12,34", "12, 34"],
  ["x = 5", "5"],
  ["y=2x+3", "2x+3"],
  ["\\theta = 30^\\circ", "30"],
  ["a_1 = 2", "2"],
  ["x=1, y=2", "x=1, y=2"],
  ["f(x) = 2x", "f(x)=2x"],
  ["\u22125", "-5"],
  ["\\left( 1, 2 \\right)", "(1, 2)"],
  ["\\left[ 0, \\infty \\right)", "[0, \\infty)"],
  ["\\left\\{ 1, 2 \\right\\}", "\\{1, 2\\}"],
  ["\\lbrace 1,2 \\rbrace", "\\{1, 2\\}"],
  ["3\\!\\,\\;\\ 4", "3 4"],
  ["x + 1", "x+1"],
  ["2 \\pi r", "2\\pi r"],
  ["\\displaystyle\\frac{1}{2}", "\\frac{1}{2}"],
  ["\\mathrm{i}", "i"],
];

// [a, b, same key?, equivalent?]
const equivalenceCases: ReadonlyArray<readonly [string, string, boolean, boolean]> = [
  // integers and decimals
  ["3", "3.0", true, true],
  ["3", "003", true, true],
  ["12", "21", false, false],
  ["-0", "0", true, true],
  ["0.5", "\\frac{1}{2}", true, true],
  ["0.5", ".5", true, true],
  ["1.25", "\\frac{5}{4}", true, true],
  ["0.333", "\\frac{1}{3}", false, false],
  ["0.3333333", "\\frac{1}{3}", false, true],
  ["0.33333333", "1/3", false, true],
  // Two integers are equal or not: a relative tolerance would make 1234567 equal 1234568.
  ["1000000", "1000001", false, false],
  ["1234567", "1234568", false, false],
  ["1 000", "1000", true, true],
  ["10,\\!000", "10000", true, true],
  ["11,\\! 111,\\! 100", "11111100", true, true],
  ["11,\\! 111,\\! 100", "11111101", false, false],
  ["2.0000001", "2", false, true],
  ["100", "101", false, false],
  // Numbers are compared after rounding to six decimal places, as Math-Verify does by default.
  ["0", "0.0000001", false, true],
  ["0", "0.000001", false, false],
  ["1234567.5", "1234567.6", false, false],
  ["1234567.25", "\\frac{4938269}{4}", true, true],
  ["333333.3333", "\\frac{1000000}{3}", false, true],
  // fractions
  ["\\frac{1}{2}", "1/2", true, true],
  ["\\frac{2}{4}", "\\dfrac12", true, true],
  ["\\frac{6}{2}", "3", true, true],
  ["\\tfrac{3}{9}", "1/3", true, true],
  ["\\frac{1}{2}", "\\frac{2}{1}", false, false],
  ["\\frac{1}{0}", "1/0", false, false],
  // signs
  ["-\\frac{1}{2}", "\\frac{-1}{2}", true, true],
  ["\\frac{1}{-2}", "-0.5", true, true],
  ["-\\frac{-1}{2}", "\\frac{1}{2}", true, true],
  ["-1/2", "-\\frac12", true, true],
  ["\u22123", "-3", true, true],
  ["+3", "3", true, true],
  ["-3", "3", false, false],
  // thousands separators
  ["1,000", "1000", true, true],
  ["1{,}000", "1000", true, true],
  ["1,000,000", "10^6", false, false], // powers are not evaluated
  ["(1,000)", "1000", false, false],
  ["(1,000)", "(1, 0)", true, true],
  ["1, 000", "1000", false, false],
  // units, degrees, percent, wrappers
  ["5 \\text{ cm}", "5", true, true],
  ["5\\text{ cm}", "5 \\mbox{cm}", true, true],
  ["90^\\circ", "90", true, true],
  ["50\\%", "50", true, true],
  ["50\\%", "0.5", false, false],
  ["$\\frac{1}{2}$", "\\(0.5\\)", true, true],
  ["\\$12.50", "12.5", true, true],
  ["x = 4", "4", true, true],
  ["\\text{(A)}", "A", true, true],
  ["\\text{(A)}", "(B)", false, false],
  // tuples, intervals, sets, lists
  ["(1,2)", "\\left(1, 2\\right)", true, true],
  ["(1,2)", "(2,1)", false, false],
  ["(0.5, 3)", "(\\frac{1}{2}, 3.0)", true, true],
  ["(0.3333333, 1)", "(\\frac13, 1)", false, true],
  ["(1,2)", "(1,2,3)", false, false],
  ["[1,2)", "[1,2]", false, false],
  ["[1,2)", "[1, 2)", true, true],
  ["(1,2]", "(1,2)", false, false],
  ["(-\\infty, 0]", "\\left(-\\infty,0\\right]", true, true],
  ["\\{1,2\\}", "\\{2,1\\}", true, true],
  ["\\{1,2,2\\}", "\\{2,1\\}", true, true],
  ["\\{1,2\\}", "\\{1,3\\}", false, false],
  ["\\{0.3333333, 2\\}", "\\{2, \\frac{1}{3}\\}", false, true],
  ["\\{1,2\\}", "(1,2)", false, false],
  ["1, 2", "2, 1", true, true],
  ["2, -3", "-3,2", true, true],
  ["1, 2", "1, 2, 2", false, false],
  ["(5)", "5", true, true],
  // non-numeric
  ["x+1", "x + 1", true, true],
  ["x+1", "1+x", false, false],
  ["\\sqrt{2}", "\\sqrt2", true, true],
  ["2\\sqrt{2}", "\\sqrt{8}", false, false],
  ["\\pi", "3.14159", false, false],
  ["\\text{Evelyn}", "Evelyn", true, true],
  ["Evelyn", "evelyn", false, false],
  ["", "0", false, false],
];

// [raw, expected vote key]
const keyCases: ReadonlyArray<readonly [string, string]> = [
  ["3", "3"],
  ["-007", "-7"],
  ["3.0", "3"],
  ["0.5", "1/2"],
  ["0.333", "333/1000"],
  ["\\frac{2}{4}", "1/2"],
  ["-\\frac{6}{4}", "-3/2"],
  ["\\frac{\\frac{1}{2}}{3}", "1/6"],
  ["12345678901234567890123", "12345678901234567890123"],
  ["12345678901234567890123.0", "12345678901234567890123"],
  ["(1, 0.5)", "(1, 1/2)"],
  ["[1,2)", "[1, 2)"],
  ["\\{3, 1, 2\\}", "\\{1, 2, 3\\}"],
  ["\\{\\}", "\\{\\}"],
  ["x = 5", "5"],
  ["\\frac{x}{2}", "\\frac{x}{2}"],
];

// [raw, expected number or null]
const numberCases: ReadonlyArray<readonly [string, number | null]> = [
  ["42", 42],
  ["-42", -42],
  ["3.25", 3.25],
  [".5", 0.5],
  ["1/4", 0.25],
  ["\\frac{3}{4}", 0.75],
  ["\\dfrac34", 0.75],
  ["-\\frac{1}{2}", -0.5],
  ["\\frac{-1}{-2}", 0.5],
  ["1,000", 1000],
  ["50\\%", 50],
  ["$x = 2$", 2],
  ["x", null],
  ["(1,2)", null],
  ["\\sqrt{2}", null],
  ["1/0", null],
  ["", null],
];

describe("extractAnswer", () => {
  it.each(extractionCases)("extracts from %j -> %j", (text, expected) => {
    expect(extractAnswer(text)).toBe(expected);
  });
});

describe("normalizeAnswer", () => {
  it.each(normalizationCases)("normalizes %j -> %j", (raw, expected) => {
    expect(normalizeAnswer(raw)).toBe(expected);
  });

  it.each(normalizationCases)("is idempotent on %j", (raw) => {
    const once = normalizeAnswer(raw);
    expect(normalizeAnswer(once)).toBe(once);
  });
});

describe("answerKey", () => {
  it.each(keyCases)("key of %j is %j", (raw, expected) => {
    expect(answerKey(raw)).toBe(expected);
  });

  it.each(equivalenceCases)("key(%j) vs key(%j): equal=%s", (a, b, sameKey) => {
    expect(answerKey(a) === answerKey(b)).toBe(sameKey);
  });
});

describe("answersEquivalent", () => {
  it.each(equivalenceCases)("%j ~ %j (key %s, equivalent %s)", (a, b, _sameKey, equivalent) => {
    expect(answersEquivalent(a, b)).toBe(equivalent);
    expect(answersEquivalent(b, a)).toBe(equivalent);
  });

  it("same key always implies equivalent", () => {
    for (const [a, b] of equivalenceCases) {
      if (answerKey(a) === answerKey(b)) expect(answersEquivalent(a, b)).toBe(true);
    }
  });
});

describe("parseNumber", () => {
  it.each(numberCases)("parses %j -> %j", (raw, expected) => {
    const got = parseNumber(raw);
    if (expected === null) expect(got).toBeNull();
    else expect(got).toBeCloseTo(expected, 12);
  });

  it("handles huge exact rationals without overflow to NaN", () => {
    const big = "1" + "0".repeat(400);
    expect(parseNumber(`\\frac{${big}}{${big}0}`)).toBeCloseTo(0.1, 12);
  });
});

describe("end-to-end vote keys", () => {
  it("groups equivalent model outputs under one key", () => {
    const outputs = [
      "... so $\\boxed{\\frac{1}{2}}$",
      "The answer is 0.5.",
      "\\boxed{\\dfrac{2}{4}}",
      "Final answer: $1/2$",
      "\\boxed{0.3333333}",
    ];
    const keys = outputs.map((o) => answerKey(extractAnswer(o) ?? ""));
    expect(new Set(keys.slice(0, 4)).size).toBe(1);
    expect(keys[4]).not.toBe(keys[0]);
  });
});

describe("performance guards", () => {
  it("stays linear on adversarial inputs", () => {
    const long = "1".repeat(200_000);
    const inputs = [
      `${long}x`,
      `${long}.${long}.`,
      `1,${"000,".repeat(50_000)}00`,
      `\\boxed{${"{".repeat(100_000)}`,
      `${"\\frac".repeat(20_000)}1`,
      `${"(".repeat(50_000)}1,2${")".repeat(50_000)}`,
      `The answer is ${"answer is ".repeat(20_000)}`,
      `The answer is ${".".repeat(100_000)}x`,
      `The answer is ${"$".repeat(100_000)}x`,
      `x${" ".repeat(100_000)}=`,
      `${"\\frac{".repeat(20_000)}1${"}{2}".repeat(20_000)}`,
      `${"{".repeat(20_000)}1${"}".repeat(20_000)}`,
      `${"\\text{".repeat(20_000)}1${"}".repeat(20_000)}`,
    ];
    const start = performance.now();
    for (const s of inputs) {
      extractAnswer(s);
      answerKey(s);
      answersEquivalent(s, "1");
    }
    expect(performance.now() - start).toBeLessThan(2_000);
  });

  it("handles a million integer keys quickly (fast path)", () => {
    const start = performance.now();
    for (let i = 0; i < 1_000_000; i++) answerKey(String(i - 500_000));
    expect(performance.now() - start).toBeLessThan(2_000);
  });
});
