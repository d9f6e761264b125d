import { describe, it, expect } from "vitest";
import { readFileSync } from "node:fs";
import { parseWorld, type World } from "../src/sim/world.js";
import { simProviders } from "../src/sim/provider.js";
import { generateProblems } from "../src/sim/problems.js";
import { startExecution } from "../src/engine/executor.js";
import { callProviders, runToEnd } from "../src/engine/executeStep.js";
import { absorbStrategy, initStrategy, planStrategy, type StrategyState } from "../src/engine/strategies/index.js";
import {
  generationCost,
  StrategySpecSchema,
  type StrategySpec,
  type StrategySpecInput,
} from "../src/engine/strategies/index.js";
import type { StepwiseState } from "../src/engine/strategies/stepwiseSearch.js";
import type { RevisionsState } from "../src/engine/strategies/revisions.js";
import { joinSteps, splitSteps } from "../src/engine/solutionSteps.js";
import type { GenerateRequest, Work, WorkResults } from "../src/engine/types.js";

function loadWorld(): World {
  const parsed = parseWorld(JSON.parse(readFileSync("worlds/default.json", "utf8")));
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.world;
}

// The default world with more early boxed answers (shortcuts), so that some beams finish while others go on:
// these tests check the search's bookkeeping, not the world's calibration.
const base = loadWorld();
const world: World = { ...base, degenerate: { ...base.degenerate, shortcutRate: 0.05 } };
const { providers, costs } = simProviders(world);
// Five problems of 2 to 8 operations.
const problems = generateProblems(world, 1, 5).map((r) => ({ question: r.problem, answer: r.answer }));
const longest = [...problems].sort((a, b) => b.question.length - a.question.length)[0]!;

function spec(input: StrategySpecInput): StrategySpec {
  return StrategySpecSchema.parse(input);
}

interface Turn {
  before: StrategyState;
  work: Exclude<Work, { kind: "done" }>;
  results: WorkResults;
  after: StrategyState;
}

/** Drive a strategy to done with plan/absorb against the sim providers, recording every turn. */
async function drive(
  s: StrategySpec,
  question: string,
  seed = 3,
  limit = 500,
): Promise<{ turns: Turn[]; final: StrategyState; done: Extract<Work, { kind: "done" }> }> {
  let state = initStrategy({ question }, s, seed);
  const turns: Turn[] = [];
  for (let i = 0; i < limit; i++) {
    const work = planStrategy(state);
    if (work.kind === "done") return { turns, final: state, done: work };
    const results = await callProviders(work, providers);
    const after = absorbStrategy(state, results);
    turns.push({ before: state, work, results, after });
    state = after;
  }
  throw new Error("strategy did not finish");
}

async function generationsCharged(s: StrategySpec, question: string, seed = 3): Promise<number> {
  const start = startExecution({ question }, s, {}, seed, costs);
  if (!start.ok) throw new Error(start.error);
  const end = await runToEnd(start.execution, providers, costs);
  expect(end.status).toBe("done");
  expect(end.stopReason).toBe("complete");
  return end.ledger.generations;
}

function completionsOf(t: Turn): number {
  return t.results.kind === "generate" ? t.results.responses.reduce((k, r) => k + r.completions.length, 0) : 0;
}

function freshCount(state: StrategyState): number {
  return (state as StepwiseState).groups.reduce((k, g) => k + g.fresh.length, 0);
}

function finishedCount(state: StrategyState): number {
  return (state as StepwiseState).groups.reduce((k, g) => k + g.finished.length, 0);
}

describe("best-of-N", () => {
  for (const selection of ["weighted", "best", "majority"] as const) {
    it(`${selection}: one generate request with n=N, then ${selection === "majority" ? "no" : "one"} score batch of N, then done`, async () => {
      const N = 8;
      const s = spec({ strategy: "best-of-n", n: N, selection });
      for (const p of problems.slice(0, 2)) {
        const { turns, done } = await drive(s, p.question);
        expect(turns.length).toBe(selection === "majority" ? 1 : 2);
        const gen = turns[0]!.work;
        expect(gen.kind).toBe("generate");
        if (gen.kind !== "generate") return;
        expect(gen.requests).toHaveLength(1);
        expect(gen.generations).toBe(N);
        const req = gen.requests[0]!;
        expect(req).toMatchObject({ role: "generator", n: N, oneStep: false, prefix: [], question: p.question });
        expect(req.temperature).toBe(0.8);
        if (selection !== "majority") {
          const sc = turns[1]!.work;
          expect(sc.kind).toBe("score");
          expect(sc.requests).toHaveLength(N);
          for (const r of sc.requests as { steps: string[]; question: string }[]) {
            expect(r.question).toBe(p.question);
            expect(r.steps.length).toBeGreaterThan(0);
          }
        }
        expect(done.outcome.candidates).toHaveLength(N);
        if (selection !== "majority")
          for (const c of done.outcome.candidates) expect(c.stepScores?.length).toBe(c.steps.length);
        else for (const c of done.outcome.candidates) expect(c.stepScores).toBeUndefined();
        expect(await generationsCharged(s, p.question)).toBe(generationCost(s));
      }
    });
  }
});

describe("beam search (N=16, M=4)", () => {
  const N = 16;
  const M = 4;

  it("first expansion: one request with n=N, oneStep; later expansions: N/M requests of n=M while no beam finished", async () => {
    for (const p of problems) {
      const s = spec({ strategy: "beam-search", n: N, width: M });
      const { turns } = await drive(s, p.question);
      const expansions = turns.filter((t) => t.work.kind === "generate");
      const first = expansions[0]!.work as Extract<Work, { kind: "generate" }>;
      expect(first.requests).toHaveLength(1);
      expect(first.requests[0]).toMatchObject({ n: N, oneStep: true, prefix: [], temperature: 0.8, role: "generator" });
      expect(first.generations).toBe(N);
      for (const t of expansions.slice(1)) {
        const w = t.work as Extract<Work, { kind: "generate" }>;
        expect(w.generations).toBe(0); // paid for when the search started
        for (const r of w.requests) expect(r.oneStep).toBe(true);
        if (finishedCount(t.before) === 0) {
          expect(w.requests).toHaveLength(N / M);
          for (const r of w.requests) expect(r.n).toBe(M);
        }
        // Kept prefixes and children always fill exactly the slots not yet taken by finished beams.
        expect(w.requests.reduce((k, r) => k + r.n, 0)).toBe(N - finishedCount(t.before));
        expect(w.requests.length).toBeLessThanOrEqual(N / M);
      }
    }
  });

  it("every score batch covers all fresh beams; finished beams leave the pool; finished candidates never exceed N", async () => {
    let sawFinishedMidSearch = false;
    for (const p of problems) {
      const s = spec({ strategy: "beam-search", n: N, width: M });
      const { turns, done } = await drive(s, p.question);
      for (let i = 0; i < turns.length; i++) {
        const t = turns[i]!;
        if (t.work.kind === "generate") {
          // Alternates: expansion, then a score batch over exactly what it produced.
          const next = turns[i + 1]!;
          expect(next.work.kind).toBe("score");
          expect(next.work.requests).toHaveLength(completionsOf(t));
          expect(freshCount(next.before)).toBe(completionsOf(t));
          const fresh = (next.before as StepwiseState).groups.flatMap((g) => g.fresh);
          next.work.requests.forEach((r, j) => expect((r as { steps: string[] }).steps).toEqual(fresh[j]!.steps));
        } else {
          const after = t.after as StepwiseState;
          for (const g of after.groups) {
            expect(g.fresh).toEqual([]);
            if (!g.done) for (const b of g.kept) expect(b.finished).toBe(false);
            for (const c of g.finished) expect(c.answer).not.toBeNull();
          }
          expect(finishedCount(t.after)).toBeLessThanOrEqual(N);
          expect(finishedCount(t.after)).toBeGreaterThanOrEqual(finishedCount(t.before));
          if (!after.groups.every((g) => g.done) && finishedCount(t.after) > 0) sawFinishedMidSearch = true;
        }
      }
      const answered = done.outcome.candidates.filter((c) => c.answer !== null);
      expect(answered.length).toBeLessThanOrEqual(N);
      expect(await generationsCharged(s, p.question)).toBe(generationCost(s));
    }
    // The sim writes early boxed answers now and then, so some beams finish while others go on.
    expect(sawFinishedMidSearch).toBe(true);
  });

  it("stops after at most maxRounds expansions (maxRounds 3)", async () => {
    const s = spec({ strategy: "beam-search", n: N, width: M, maxRounds: 3 });
    let hitCap = false;
    for (const p of problems) {
      const { turns, final, done } = await drive(s, p.question);
      const expansions = turns.filter((t) => t.work.kind === "generate").length;
      expect(expansions).toBeLessThanOrEqual(3);
      if (expansions === 3) hitCap = true;
      expect((final as StepwiseState).phase).toBe("done");
      expect(done.outcome.candidates.filter((c) => c.answer !== null).length).toBeLessThanOrEqual(N);
    }
    // The longest problem needs more than three steps to finish, so the cap is what stopped it.
    const { turns } = await drive(s, longest.question);
    expect(turns.filter((t) => t.work.kind === "generate").length).toBe(3);
    expect(hitCap).toBe(true);
  });
});

describe("lookahead search (k=2)", () => {
  const N = 8;
  const M = 2;
  const k = 2;

  it("rollouts at temperature 0 with n=1, at most k rollout steps per round, scored through the rollout", async () => {
    let sawRollout = false;
    for (const p of problems) {
      const s = spec({ strategy: "beam-search", n: N, width: M, lookahead: k });
      const { turns } = await drive(s, p.question);
      let rolloutsThisRound = 0;
      for (let i = 0; i < turns.length; i++) {
        const t = turns[i]!;
        const before = t.before as StepwiseState;
        if (t.work.kind === "generate" && before.phase === "rollout") {
          sawRollout = true;
          rolloutsThisRound += 1;
          expect(rolloutsThisRound).toBeLessThanOrEqual(k);
          expect(t.work.generations).toBe(0);
          for (const r of t.work.requests) expect(r).toMatchObject({ temperature: 0, n: 1, oneStep: true });
          // One rollout request per unfinished fresh beam still rolling.
          const rolling = before.groups.flatMap((g) => g.fresh).filter((b) => !b.rolloutDone);
          expect(t.work.requests).toHaveLength(rolling.length);
          t.work.requests.forEach((r, j) => expect(r.prefix).toEqual([...rolling[j]!.steps, ...rolling[j]!.rollout]));
        } else if (t.work.kind === "generate") {
          expect(before.phase).toBe("expand");
          rolloutsThisRound = 0;
          for (const r of t.work.requests) expect(r.temperature).toBe(0.8);
        } else {
          // Scored on the rollout: each request is the beam's steps followed by its rollout.
          const fresh = before.groups.flatMap((g) => g.fresh);
          expect(t.work.requests).toHaveLength(fresh.length);
          t.work.requests.forEach((r, j) =>
            expect((r as { steps: string[] }).steps).toEqual([...fresh[j]!.steps, ...fresh[j]!.rollout]),
          );
          for (const b of fresh) {
            expect(b.rollout.length).toBeLessThanOrEqual(k);
            if (b.finished) expect(b.rollout).toEqual([]);
          }
        }
      }
      expect(await generationsCharged(s, p.question)).toBe(N * (k + 1));
      expect(generationCost(s)).toBe(N * (k + 1));
    }
    expect(sawRollout).toBe(true);
  });
});

describe("DVTS (N=16, M=4)", () => {
  const N = 16;
  const M = 4;

  it("N/M groups; each keeps one prefix and expands it into M", async () => {
    for (const p of problems) {
      const s = spec({ strategy: "dvts", n: N, width: M });
      const init = initStrategy({ question: p.question }, s, 3) as StepwiseState;
      expect(init.groups).toHaveLength(N / M);
      for (const g of init.groups) expect(g.slots).toBe(M);
      const { turns, done } = await drive(s, p.question);
      const expansions = turns.filter((t) => t.work.kind === "generate");
      const first = expansions[0]!.work as Extract<Work, { kind: "generate" }>;
      expect(first.generations).toBe(N);
      expect(first.requests).toHaveLength(N / M);
      for (const r of first.requests) expect(r).toMatchObject({ n: M, oneStep: true, prefix: [] });
      // Different subtrees sample with different seeds.
      expect(new Set(first.requests.map((r) => r.seed)).size).toBe(N / M);
      for (const t of expansions.slice(1)) {
        const before = t.before as StepwiseState;
        const w = t.work as Extract<Work, { kind: "generate" }>;
        let r = 0;
        for (const g of before.groups) {
          if (g.done) continue;
          // Each live subtree keeps exactly one prefix, expanded into the slots it has left.
          expect(g.kept).toHaveLength(1);
          const req = w.requests[r++] as GenerateRequest;
          expect(req.prefix).toEqual(g.kept[0]!.steps);
          expect(req.n).toBe(M - g.finished.length);
          if (g.finished.length === 0) expect(req.n).toBe(M);
        }
        expect(w.requests).toHaveLength(r);
        expect(w.requests.length).toBeLessThanOrEqual(N / M);
      }
      for (const t of turns)
        for (const g of (t.after as StepwiseState).groups) expect(g.finished.length).toBeLessThanOrEqual(M);
      expect(done.outcome.candidates.filter((c) => c.answer !== null).length).toBeLessThanOrEqual(N);
      expect(await generationsCharged(s, p.question)).toBe(generationCost(s));
    }
  });
});

describe("revisions", () => {
  it("s=3, p=2: first request has n=p and no attempts; later ones n=1 with the chain's attempts; verifier scores every attempt", async () => {
    const s = spec({ strategy: "revisions", sequential: 3, parallel: 2 });
    for (const p of problems.slice(0, 2)) {
      const { turns, done } = await drive(s, p.question);
      const gens = turns.filter((t) => t.work.kind === "generate");
      expect(gens).toHaveLength(3);
      const first = gens[0]!.work as Extract<Work, { kind: "generate" }>;
      expect(first.requests).toHaveLength(1);
      expect(first.requests[0]).toMatchObject({ role: "reviser", n: 2, prefix: [], oneStep: false });
      expect(first.requests[0]!.attempts ?? []).toEqual([]);
      expect(first.generations).toBe(2);
      for (const t of gens.slice(1)) {
        const w = t.work as Extract<Work, { kind: "generate" }>;
        expect(w.generations).toBe(2);
        expect(w.requests).toHaveLength(2);
        for (const r of w.requests) expect(r).toMatchObject({ role: "reviser", n: 1, oneStep: false, prefix: [] });
      }
      const scores = turns.filter((t) => t.work.kind === "score");
      expect(scores).toHaveLength(1);
      expect(turns[turns.length - 1]!.work.kind).toBe("score");
      expect(scores[0]!.work.requests).toHaveLength(3 * 2);
      expect(done.outcome.candidates).toHaveLength(6);
      for (const c of done.outcome.candidates) expect(c.stepScores?.length).toBe(c.steps.length);
      const chains = (turns[turns.length - 1]!.after as RevisionsState).chains;
      expect(chains).toHaveLength(2);
      chains.forEach((chain, i) => chain.forEach((c, j) => expect(c).toMatchObject({ chain: i, position: j })));
      expect(await generationsCharged(s, p.question)).toBe(3 * 2);
    }
  });

  it("s=6: later requests carry the chain's most recent attempts, at most four, oldest first", async () => {
    const s = spec({ strategy: "revisions", sequential: 6, parallel: 2 });
    const { turns } = await drive(s, problems[0]!.question);
    const gens = turns.filter((t) => t.work.kind === "generate");
    expect(gens).toHaveLength(6);
    // Reconstruct each chain's attempts from what the providers returned.
    const chainTexts: string[][] = [[], []];
    const firstResults = gens[0]!.results;
    if (firstResults.kind !== "generate") throw new Error("expected generations");
    firstResults.responses[0]!.completions.forEach((c, i) => chainTexts[i]!.push(joinSteps(splitSteps(c.text))));
    gens.slice(1).forEach((t, d) => {
      const w = t.work as Extract<Work, { kind: "generate" }>;
      w.requests.forEach((r, c) => {
        expect(r.n).toBe(1);
        expect(r.attempts).toHaveLength(Math.min(d + 1, 4));
        expect(r.attempts).toEqual(chainTexts[c]!.slice(-4));
      });
      if (t.results.kind === "generate")
        t.results.responses.forEach((resp, c) => chainTexts[c]!.push(joinSteps(splitSteps(resp.completions[0]!.text))));
    });
    expect(await generationsCharged(s, problems[0]!.question)).toBe(12);
  });

  it("majority selection never calls the verifier", async () => {
    const s = spec({ strategy: "revisions", sequential: 3, parallel: 2, selection: "majority" });
    for (const p of problems.slice(0, 2)) {
      const { turns, done } = await drive(s, p.question);
      expect(turns.every((t) => t.work.kind === "generate")).toBe(true);
      expect(turns).toHaveLength(3);
      expect(done.outcome.candidates).toHaveLength(6);
      for (const c of done.outcome.candidates) expect(c.stepScores).toBeUndefined();
      expect(await generationsCharged(s, p.question)).toBe(generationCost(s));
    }
  });
});

describe("generationCost", () => {
  it("N for best-of-N and beam/DVTS, N(k+1) for lookahead, s·p for revisions", () => {
    expect(generationCost(spec({ strategy: "best-of-n", n: 32 }))).toBe(32);
    expect(generationCost(spec({ strategy: "beam-search", n: 16, width: 4 }))).toBe(16);
    expect(generationCost(spec({ strategy: "dvts", n: 16, width: 4 }))).toBe(16);
    expect(generationCost(spec({ strategy: "beam-search", n: 16, width: 4, lookahead: 3 }))).toBe(64);
    expect(generationCost(spec({ strategy: "revisions", sequential: 4, parallel: 8 }))).toBe(32);
  });
});

describe("spec schema", () => {
  for (const strategy of ["dvts", "beam-search"] as const) {
    it(`rejects ${strategy} with N not divisible by M, naming width`, () => {
      for (const [n, width] of [
        [10, 4],
        [16, 3],
        [4, 8],
      ] as const) {
        const r = StrategySpecSchema.safeParse({ strategy, n, width });
        expect(r.success).toBe(false);
        if (r.success) continue;
        const issue = r.error.issues.find((i) => i.path.includes("width"));
        expect(issue, JSON.stringify(r.error.issues)).toBeDefined();
        expect(issue!.message).toMatch(/width/);
      }
      expect(StrategySpecSchema.safeParse({ strategy, n: 16, width: 4 }).success).toBe(true);
    });
  }

  it("fills defaults", () => {
    expect(spec({ strategy: "beam-search", n: 4, width: 2 })).toMatchObject({
      lookahead: 0,
      maxRounds: 40,
      aggregation: "last",
      temperature: 0.8,
    });
    expect(spec({ strategy: "best-of-n", n: 4 })).toMatchObject({ selection: "weighted" });
    expect(spec({ strategy: "revisions", sequential: 2, parallel: 2 })).toMatchObject({ selection: "verifier" });
  });
});
