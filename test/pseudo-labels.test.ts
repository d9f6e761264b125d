/**
 * Label-free calibration's labels (src/eval/pseudoLabels.ts): a run is "right" when it agrees with the
 * problem's high-budget majority vote, whatever the gold answer; difficulty is the share of configurations
 * that agree; without recorded answers it refuses.
 */
import { describe, expect, it } from "vitest";
import { StrategySpecSchema } from "../src/engine/strategies";
import { pseudoLabelled, referenceConfig } from "../src/eval/pseudoLabels";
import type { OutcomeData } from "../src/policy/fit";

const spec = (s: unknown) => StrategySpecSchema.parse(s);

function data(answers: (string | null)[][]): OutcomeData {
  const n = answers[0]!.length;
  const zeros = () => answers.map(() => new Float64Array(n));
  return {
    prompts: Array.from({ length: n }, (_, i) => `problem ${i}`),
    passAt1: new Array(n).fill(0.5),
    oracleSamples: 16,
    configs: [
      { config: "one", spec: spec({ strategy: "best-of-n", n: 1 }) },
      { config: "vote-4", spec: spec({ strategy: "best-of-n", n: 4, selection: "majority" }) },
      { config: "vote-16", spec: spec({ strategy: "best-of-n", n: 16, selection: "majority" }) },
      { config: "beam", spec: spec({ strategy: "beam-search", n: 16, width: 4 }) },
    ],
    // Gold says every run is wrong: agreement labels must not read it.
    correct: answers.map(() => new Uint8Array(n)),
    tokens: zeros(),
    money: zeros(),
    flops: zeros(),
    generations: zeros(),
    answers,
  };
}

describe("agreement labels", () => {
  it("take the largest majority vote as the reference, and count agreement with it as right", () => {
    const d = data([
      ["12", "7", null],
      ["12", "8", "3"],
      ["12.0", "8", null],
      ["5", "8", "3"],
    ]);
    expect(referenceConfig(d)).toBe(2);
    const p = pseudoLabelled(d);
    expect(p.correct.map((c) => [...c])).toEqual([
      [1, 0, 0],
      [1, 1, 0],
      [1, 1, 0], // an unanswered reference makes every run "wrong"
      [0, 1, 0],
    ]);
    expect(p.passAt1).toEqual([0.75, 0.75, 0]);
    expect(p.oracleSamples).toBe(4);
    expect(d.correct[0]![0]).toBe(0); // the input is not changed
  });

  it("refuses without answers or without a majority vote to take as the reference", () => {
    const { answers: _a, ...noAnswers } = data([["1"], ["1"], ["1"], ["1"]]);
    expect(() => pseudoLabelled(noAnswers)).toThrow(/answers/);
    const d = data([["1"], ["1"], ["1"], ["1"]]);
    expect(() =>
      pseudoLabelled({ ...d, configs: d.configs.slice(0, 1).concat(d.configs.slice(3)), answers: [["1"], ["1"]] }),
    ).toThrow(/majority/);
  });
});
