/**
 * What a world's models are like, measured the way a paper measures a real model rather than read off its
 * knobs: per oracle difficulty bin, the base model's pass@1, the PRM's within-problem AUROC (does its final
 * score rank a problem's right samples above its wrong ones?), weighted best-of-N against majority voting
 * on one pool of samples, and the revision model's pass@1 along a chain with how often it breaks a right
 * answer. Everything goes through the same prompts, providers, answer extraction and selection rules as the
 * service; only the world and the seed decide the numbers.
 */
import { mixSeeds } from "../engine/random";
import { selectMajority, selectWeighted } from "../engine/selection";
import { candidateFromCompletion, withScores } from "../engine/strategies/candidates";
import { joinSteps } from "../engine/solutionSteps";
import { REVISION_CONTEXT } from "../engine/prompts";
import type { Candidate } from "../engine/types";
import { simProviders } from "../sim/provider";
import type { World } from "../sim/world";
import { mean, quantileBins, round } from "./stats";
import { isCorrect, type EvalProblem } from "./sweep";

export interface DiagnosticsOptions {
  seed: number;
  /** Samples per problem for oracle pass@1 (and the difficulty bins). */
  oracleSamples: number;
  /** Samples per problem scored by the PRM (AUROC, weighted vs majority at this N). */
  scoredSamples: number;
  /** Revision chains per problem and their length. */
  chains: number;
  chainLength: number;
  temperature: number;
}

export const DIAGNOSTICS_DEFAULTS: Omit<DiagnosticsOptions, "seed"> = {
  oracleSamples: 256,
  scoredSamples: 64,
  chains: 8,
  chainLength: 8,
  temperature: 0.8,
};

interface ProblemDiagnostics {
  passAt1: number;
  /** Concordant and tied pairs of (right, wrong) samples ranked by the PRM's final score, and all such pairs. */
  concordant: number;
  pairs: number;
  weightedRight: boolean;
  majorityRight: boolean;
  /** Right attempts at each chain position, over all chains. */
  chainRight: number[];
  /** Right attempts followed by a wrong one, and right attempts that had a successor. */
  broken: number;
  rightWithNext: number;
  /** Wrong attempts followed by a right one, and wrong attempts that had a successor. */
  fixed: number;
  wrongWithNext: number;
}

export interface BinDiagnostics {
  bin: number | "all";
  count: number;
  passAt1: number;
  /** Within-problem AUROC of the PRM's final score; null when no problem of the bin has both right and wrong samples. */
  auroc: number | null;
  weightedAccuracy: number;
  majorityAccuracy: number;
  /** Revision model pass@1 at chain positions 1…chainLength. */
  chainPassAt1: number[];
  /** Share of right attempts whose next revision is wrong; of wrong attempts whose next revision is right. */
  breakShare: number | null;
  fixShare: number | null;
}

export interface WorldDiagnostics {
  world: string;
  seed: number;
  problems: number;
  options: Omit<DiagnosticsOptions, "seed">;
  bins: BinDiagnostics[];
}

async function diagnoseProblem(
  world: World,
  problem: EvalProblem,
  index: number,
  o: DiagnosticsOptions,
): Promise<ProblemDiagnostics> {
  const { providers } = simProviders(world);
  const base = { question: problem.question, prefix: [], temperature: o.temperature, oneStep: false, maxTokens: 1024 };
  const [oracle] = await providers.generate("generator", [
    { role: "generator", ...base, n: o.oracleSamples, seed: mixSeeds(o.seed, 0xd1a6, index) },
  ]);
  const right = (oracle?.completions ?? []).filter((c) =>
    isCorrect(candidateFromCompletion(c).answer, problem.answer),
  ).length;

  // A second, independent pool, scored: the PRM's ranking and the two selection rules at N = scoredSamples.
  const [pool] = await providers.generate("generator", [
    { role: "generator", ...base, n: o.scoredSamples, seed: mixSeeds(o.seed, 0x5c0e, index) },
  ]);
  const drafts = (pool?.completions ?? []).map(candidateFromCompletion);
  const scores = await providers.score(drafts.map((c) => ({ question: problem.question, steps: c.steps })));
  const scored: Candidate[] = drafts.map((c, i) => withScores(c, scores[i] as (typeof scores)[number], "last"));
  const rightScores = scored.filter((c) => isCorrect(c.answer, problem.answer)).map((c) => c.score ?? 0);
  const wrongScores = scored.filter((c) => !isCorrect(c.answer, problem.answer)).map((c) => c.score ?? 0);
  let concordant = 0;
  for (const r of rightScores) for (const w of wrongScores) concordant += r > w ? 1 : r === w ? 0.5 : 0;

  // Revision chains, written as the revisions strategy writes them (the first attempt has no context).
  const chains: Candidate[][] = [];
  const [first] = await providers.generate("reviser", [
    { role: "reviser", ...base, n: o.chains, seed: mixSeeds(o.seed, 0x7e51, index, 0) },
  ]);
  for (const c of first?.completions ?? []) chains.push([candidateFromCompletion(c)]);
  for (let depth = 1; depth < o.chainLength; depth++) {
    const responses = await providers.generate(
      "reviser",
      chains.map((chain, c) => ({
        role: "reviser" as const,
        ...base,
        n: 1,
        attempts: chain.slice(-REVISION_CONTEXT).map((a) => joinSteps(a.steps)),
        seed: mixSeeds(o.seed, 0x7e51, index, depth, c),
      })),
    );
    chains.forEach((chain, c) => {
      const next = responses[c]?.completions[0];
      if (next) chain.push(candidateFromCompletion(next));
    });
  }
  const chainRight = new Array<number>(o.chainLength).fill(0);
  let broken = 0,
    rightWithNext = 0,
    fixed = 0,
    wrongWithNext = 0;
  for (const chain of chains) {
    const ok = chain.map((a) => isCorrect(a.answer, problem.answer));
    ok.forEach((r, i) => {
      if (r) chainRight[i] = (chainRight[i] as number) + 1;
      if (i + 1 < ok.length) {
        if (r) {
          rightWithNext++;
          if (!ok[i + 1]) broken++;
        } else {
          wrongWithNext++;
          if (ok[i + 1]) fixed++;
        }
      }
    });
  }
  return {
    passAt1: right / Math.max(1, o.oracleSamples),
    concordant,
    pairs: rightScores.length * wrongScores.length,
    weightedRight: isCorrect(selectWeighted(scored).answer, problem.answer),
    majorityRight: isCorrect(selectMajority(scored).answer, problem.answer),
    chainRight: chainRight.map((k) => k / Math.max(1, chains.length)),
    broken,
    rightWithNext,
    fixed,
    wrongWithNext,
  };
}

function summarise(bin: number | "all", ps: readonly ProblemDiagnostics[], chainLength: number): BinDiagnostics {
  const sum = (f: (p: ProblemDiagnostics) => number): number => ps.reduce((t, p) => t + f(p), 0);
  const pairs = sum((p) => p.pairs);
  const rightWithNext = sum((p) => p.rightWithNext);
  const wrongWithNext = sum((p) => p.wrongWithNext);
  return {
    bin,
    count: ps.length,
    passAt1: round(mean(ps.map((p) => p.passAt1)), 4),
    auroc: pairs > 0 ? round(sum((p) => p.concordant) / pairs, 4) : null,
    weightedAccuracy: round(mean(ps.map((p) => (p.weightedRight ? 1 : 0))), 4),
    majorityAccuracy: round(mean(ps.map((p) => (p.majorityRight ? 1 : 0))), 4),
    chainPassAt1: Array.from({ length: chainLength }, (_, i) =>
      round(mean(ps.map((p) => p.chainRight[i] as number)), 4),
    ),
    breakShare: rightWithNext > 0 ? round(sum((p) => p.broken) / rightWithNext, 4) : null,
    fixShare: wrongWithNext > 0 ? round(sum((p) => p.fixed) / wrongWithNext, 4) : null,
  };
}

/** Diagnose a world on a set of problems; bins are quintiles of oracle pass@1, bin 1 the easiest. */
export async function diagnoseWorld(
  world: World,
  problems: readonly EvalProblem[],
  options: Partial<DiagnosticsOptions> & { seed: number },
): Promise<WorldDiagnostics> {
  const o: DiagnosticsOptions = { ...DIAGNOSTICS_DEFAULTS, ...options };
  const per: ProblemDiagnostics[] = [];
  for (let i = 0; i < problems.length; i++) {
    per.push(await diagnoseProblem(world, problems[i] as EvalProblem, i, o));
    // The simulated models are synchronous: yield now and then so a caller's timers and progress run.
    if (i % 25 === 24) await new Promise((r) => setImmediate(r));
  }
  const bins = quantileBins(
    per.map((p) => p.passAt1),
    5,
  );
  const out: BinDiagnostics[] = [];
  for (let b = 1; b <= 5; b++)
    out.push(
      summarise(
        b,
        per.filter((_, i) => bins[i] === b),
        o.chainLength,
      ),
    );
  out.push(summarise("all", per, o.chainLength));
  const { seed: _seed, ...rest } = o;
  return { world: world.name, seed: o.seed, problems: problems.length, options: rest, bins: out };
}

/** A compact text table of the diagnostics, one line per bin. */
export function formatDiagnostics(d: WorldDiagnostics): string {
  const pct = (x: number | null): string => (x === null ? "  n/a" : (100 * x).toFixed(1).padStart(5));
  const lines = [
    `world ${d.world}, seed ${d.seed}, ${d.problems} problems (oracle ${d.options.oracleSamples} samples; PRM on ${d.options.scoredSamples}; ${d.options.chains} revision chains of ${d.options.chainLength})`,
    "bin   pass@1  AUROC  weighted@N  majority@N  break%  fix%   revision pass@1 along the chain",
  ];
  for (const b of d.bins) {
    lines.push(
      `${String(b.bin).padEnd(4)}  ${pct(b.passAt1)}   ${b.auroc === null ? " n/a " : b.auroc.toFixed(3)}  ${pct(b.weightedAccuracy)}       ${pct(b.majorityAccuracy)}       ${pct(b.breakShare)}  ${pct(b.fixShare)}  ${b.chainPassAt1.map((x) => pct(x).trim()).join(" ")}`,
    );
  }
  return lines.join("\n");
}
