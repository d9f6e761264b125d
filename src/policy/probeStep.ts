/**
 * The verifier probe as an `auto` solve's first durable steps (method.md §6), for a policy that chooses after
 * one. Pure: the edge plans it (or skips it when the cap cannot afford it), the executor runs the probe as an
 * ordinary best-of-N of the policy's k samples scored by the PRM (same providers, journal, ledger and caps as
 * any step), and once it is scored `settleProbe` chooses the arm from the probe's features within the rest of
 * the cap and starts it with the probe's samples as given candidates. The probe is the policy's: it rides
 * beside the engine's execution (`ProbedExecution`) and steps run through `executeProbedStep`, which hooks
 * the choice into the engine's step; the engine knows nothing of it. The host only stores the result.
 */
import { abandonStep, executeStep, type StepIntent, type StepPorts, type StepReport } from "../engine/executeStep";
import { generationBound, type CallRecord, type CostModel } from "../engine/budget";
import type { Execution } from "../engine/executor";
import { aggregateScores } from "../engine/solutionSteps";
import {
  initStrategy,
  planStrategy,
  StrategySpecSchema,
  type BestOfNSpec,
  type BestOfNState,
  type StrategySpec,
} from "../engine/strategies";
import type { Candidate } from "../engine/types";
import { decideAuto, type AutoDecision } from "./auto";
import { armFor, armNeeds, binArms, choosePolicyArm, type ProbeInput } from "./choose";
import type { PolicyArm, PolicyDocument } from "./document";
import { PROBE_FEATURES, probeFeatures } from "./probe";

/** What the edge hands the solve when its policy probes first: the choice is made inside the solve. */
export interface ProbePlan {
  /** The policy document itself (the solve never reads policy files or D1). */
  policy: PolicyDocument;
  /** The token cap the whole solve (probe and arm) is chosen within, and where it came from. */
  capTokens: number;
  capFrom: AutoDecision["capFrom"];
  maxGenerations?: number;
  /** The exploration share and the draw made at the edge (so the choice inside the solve is deterministic). */
  explore: { share: number; draw: number };
  /** The probe's worst case in tokens (what the cap had to cover) and its expected cost, when the policy shows it. */
  worstTokens: number;
  expectedTokens: number | null;
}

/** `ProbedExecution.probe`: probing (the execution's strategy is the probe), or decided (it is the chosen arm). */
export type ProbePhase = { phase: "probing"; plan: ProbePlan } | { phase: "decided"; decision: AutoDecision };

/**
 * A solve's execution as its host keeps it: the engine's state, and for an `auto` solve whose policy probes
 * first its probe phase (while `probing`, `strategy` is the probe; once it is scored, the arm chosen from it).
 */
export type ProbedExecution = Execution & { probe?: ProbePhase };

/** A step's report with the execution as its host keeps it. */
export type ProbedStepReport = Omit<StepReport, "exec"> & { exec: ProbedExecution };

function withProbe(exec: Execution, probe: ProbePhase | undefined): ProbedExecution {
  return probe ? { ...exec, probe } : exec;
}

/**
 * One step of a solve that may be probing: the engine's step, with the probe's calls logged as such and,
 * on the step that finishes the probe, the arm chosen and started (before a cancel that arrived meanwhile is
 * honoured, so the choice is committed with the step that made it).
 */
export async function executeProbedStep(exec: ProbedExecution, ports: StepPorts): Promise<ProbedStepReport> {
  const { probe, ...inner } = exec;
  if (probe?.phase !== "probing") {
    const report = await executeStep(inner, ports);
    return { ...report, exec: withProbe(report.exec, probe) };
  }
  let decision: AutoDecision | undefined;
  const report = await executeStep(inner, {
    ...ports,
    afterApply: (applied) => {
      const after = ports.afterApply ? ports.afterApply(applied) : applied;
      const settled = settleProbe(after, probe.plan);
      if (!settled) return after;
      decision = settled.decision;
      return settled.exec;
    },
  });
  const phase: ProbePhase = decision ? { phase: "decided", decision } : probe;
  return { ...report, exec: withProbe(report.exec, phase), calls: markProbeCalls(report.calls) };
}

/** The engine's `abandonStep` for a solve that may be probing: a probe's charges are logged as the probe's. */
export function abandonProbedStep(
  exec: ProbedExecution,
  entry: StepIntent | undefined,
  costs: CostModel,
  detail: string,
): ProbedStepReport {
  const { probe, ...inner } = exec;
  const report = abandonStep(inner, entry, costs, detail);
  return {
    ...report,
    exec: withProbe(report.exec, probe),
    calls: probe?.phase === "probing" ? markProbeCalls(report.calls) : report.calls,
  };
}

/**
 * The probe as a strategy: best-of-N weighted of the policy's k samples at its temperature, each scored by
 * the PRM with the last step's score, as calibration ran it (scripts/calibrate.ts `runProbe`: the same
 * request and seed as the first k samples of a best-of-N pool, so a best-of-N arm given them selects from
 * what the sweep measured).
 */
export function probeSpec(policy: PolicyDocument): BestOfNSpec {
  if (!policy.probe) throw new Error(`policy ${policy.version} has no probe`);
  const spec = StrategySpecSchema.parse({
    strategy: "best-of-n",
    n: policy.probe.samples,
    selection: "weighted",
    aggregation: "last",
    temperature: policy.probe.temperature,
  });
  return spec as BestOfNSpec;
}

/** The label a solve shows while it probes. */
export function probeLabel(samples: number): string {
  return `probe(n=${samples})`;
}

/**
 * Worst case of the probe in tokens, before it runs: its sampling step exactly as the executor bounds it (the
 * prompt, every sample at max_tokens), and scoring every sample at that length, estimated as the PRM's bound
 * for the question plus max_tokens per sample (the samples' text is not known yet). The executor checks the
 * real scoring bound before it scores and scores only what fits, so the caps hold regardless; a probe scored
 * in part (samples far longer than usual, or a PRM that bounds by bytes) still chooses, its unscored samples
 * counting as scored 0.
 */
export function probeWorstTokens(policy: PolicyDocument, prompt: string, costs: CostModel): number {
  const spec = probeSpec(policy);
  const work = planStrategy(initStrategy({ question: prompt }, spec, 0));
  if (work.kind !== "generate") throw new Error("the probe starts by sampling");
  const sampling = generationBound(work.requests, work.generations, costs).tokens;
  const scoring = spec.n * (costs.scoreTokenBound({ question: prompt, steps: [] }) + spec.maxTokens);
  return sampling + scoring;
}

/**
 * Expected tokens of the probe from the policy's own evidence: a fixed best-of-N weighted arm spends per
 * sample what a probe sample spends (one sample at the same temperature and length, scored by the PRM), so
 * their per-sample mean cost, weighted by the problems behind each, times k. Null when no such arm exists.
 */
export function expectedProbeTokens(policy: PolicyDocument): number | null {
  if (!policy.probe) return null;
  let tokens = 0;
  let samples = 0;
  for (const a of policy.arms) {
    const s = a.spec;
    if (s.strategy !== "best-of-n" || s.selection !== "weighted" || s.stopAt !== undefined) continue;
    tokens += a.evidence.meanCost * a.evidence.count;
    samples += s.n * a.evidence.count;
  }
  return samples > 0 ? (tokens / samples) * policy.probe.samples : null;
}

/** Probe features at their calibration means: in the standardised ridge they add nothing, the text decides. */
export function imputedProbeFeatures(policy: PolicyDocument): number[] {
  return policy.estimator.means.slice(-PROBE_FEATURES.length);
}

/** Per bin, the arms a solve may still run after the probe within a generation cap. */
/**
 * Whether a cap affords the probe: its worst case plus, whatever bin it finds, that bin's cheapest arm at its
 * 90th-percentile cost (bins not known before the probe: the dearest of the cheapest), and under a generation
 * cap the probe's k samples plus an arm of every bin. Otherwise the reason, said to the caller.
 */
export function probeAffordable(
  policy: PolicyDocument,
  cap: number,
  maxGenerations: number | undefined,
  worstTokens: number,
): { ok: true } | { ok: false; reason: string } {
  const k = policy.probe?.samples ?? 0;
  if (maxGenerations !== undefined && k > maxGenerations)
    return { ok: false, reason: `the probe's ${k} samples exceed the generation cap of ${maxGenerations}` };
  let cheapest = 0;
  for (let bin = 1; bin <= 5; bin++) {
    const arms = binArms(policy, bin, maxGenerations, k);
    if (arms.length === 0)
      return {
        ok: false,
        reason: `after the probe's ${k} samples no arm of difficulty bin ${bin} fits the generation cap of ${maxGenerations}`,
      };
    cheapest = Math.max(cheapest, Math.min(...arms.map((a) => armNeeds(policy, a))));
  }
  const needed = worstTokens + cheapest;
  if (cap < needed)
    return {
      ok: false,
      reason: `the cap of ${Math.floor(cap)} tokens cannot afford the probe (at most ${Math.ceil(worstTokens)} tokens) and then the cheapest arm (${Math.ceil(cheapest)} tokens): ${Math.ceil(needed)} needed`,
    };
  return { ok: true };
}

/**
 * The probe an auto solve runs first under this policy within the caller's caps, or why the caps cannot
 * afford it (then the text decides alone: `imputedProbe`).
 */
export function planProbe(
  policy: PolicyDocument,
  prompt: string,
  capTokens: number,
  capFrom: AutoDecision["capFrom"],
  maxGenerations: number | undefined,
  explore: ProbePlan["explore"],
  costs: CostModel,
): { ok: true; plan: ProbePlan } | { ok: false; reason: string } {
  const worstTokens = probeWorstTokens(policy, prompt, costs);
  const affordable = probeAffordable(policy, capTokens, maxGenerations, worstTokens);
  if (!affordable.ok) return affordable;
  return {
    ok: true,
    plan: {
      policy,
      capTokens,
      capFrom,
      ...(maxGenerations !== undefined ? { maxGenerations } : {}),
      explore,
      worstTokens,
      expectedTokens: expectedProbeTokens(policy),
    },
  };
}

/** The estimator's probe input when the probe did not run: its features imputed, nothing spent. */
export function imputedProbe(policy: PolicyDocument): ProbeInput {
  return { features: imputedProbeFeatures(policy), spent: 0, imputed: true };
}

/** Start state of a probing execution: the execution runs the probe spec; the plan decides after it. */
export function startProbe(exec: Execution, plan: ProbePlan): ProbedExecution {
  return { ...exec, probe: { phase: "probing", plan } };
}

/**
 * Once the probe is scored: choose the arm from the probe's features within the rest of the cap (with the
 * exploration draw made at the edge), and start it with the probe's samples as given candidates (their scores
 * re-aggregated as the arm aggregates). Best-of-N counts them toward N; the other strategies add them to
 * their final selection pool. Null while the probe is not finished (or the solve stopped): this runs after
 * every step of the probe.
 */
export function settleProbe(exec: Execution, plan: ProbePlan): { exec: Execution; decision: AutoDecision } | null {
  if (exec.status !== "running") return null;
  if (planStrategy(exec.strategy).kind !== "done") return null;
  const probe = exec.strategy as BestOfNState;
  const samples = plan.policy.probe?.samples ?? probe.spec.n;
  const features = probeFeatures(probe.candidates);
  const l = exec.ledger;
  const decided = decideAuto(plan.policy, probe.question, plan.capTokens, plan.maxGenerations, plan.explore, {
    features,
    spent: l.tokens,
  });
  const aggregation = decided.strategy.aggregation;
  const given: Candidate[] = probe.candidates.map((c) =>
    c.stepScores ? { ...c, score: aggregateScores(c.stepScores, aggregation) } : c,
  );
  const decision: AutoDecision = {
    ...decided,
    capTokens: plan.capTokens,
    capFrom: plan.capFrom,
    probe: {
      samples,
      temperature: probe.spec.temperature,
      features: Object.fromEntries(PROBE_FEATURES.map((name, i) => [name, features[i] as number])),
      spend: { tokens: l.tokens, generations: l.generations, money: l.money },
    },
  };
  return {
    exec: {
      ...exec,
      strategy: initStrategy(
        { question: probe.question, ...(probe.context ? { context: probe.context } : {}) },
        decided.strategy,
        probe.seed,
        given,
      ),
    },
    decision,
  };
}

/** The probe's provider calls are logged as such (`probe-generate`, `probe-score`). */
function markProbeCalls(calls: CallRecord[]): CallRecord[] {
  return calls.map((c) =>
    c.purpose === "generate" || c.purpose === "score"
      ? { ...c, purpose: c.purpose === "generate" ? "probe-generate" : "probe-score" }
      : c,
  );
}

/** The strategy a probing or probed execution runs now, as the API labels it. */
export function currentSpec(exec: ProbedExecution, requested: StrategySpec): StrategySpec | null {
  if (exec.probe?.phase === "decided") return exec.probe.decision.strategy;
  return exec.probe ? null : requested;
}

/** A dry run's forecast for a solve that would probe first (see `ProbeForecastSchema` in src/api/schemas.ts). */
export interface ProbeForecast {
  textOnly: { bin: number; config: string };
  arms: {
    bin: number;
    config: string;
    evidence: { accuracy: number; lo: number; hi: number; count: number; meanTokens: number; highTokens: number };
  }[];
  accuracy: { low: number; high: number };
  tokens: { low: number; high: number };
}

/** What is known before the probe runs: the text's prediction, the arm per bin after the probe, their range. */
export function forecastProbe(plan: ProbePlan, prompt: string): ProbeForecast {
  const text = choosePolicyArm(plan.policy, prompt, plan.capTokens, {
    features: imputedProbeFeatures(plan.policy),
    spent: 0,
    imputed: true,
  });
  const arms = armsByBin(plan).map(({ bin, arm }) => {
    const e = arm.evidence;
    return {
      bin,
      config: arm.config,
      evidence: {
        accuracy: e.accuracy,
        lo: e.lo,
        hi: e.hi,
        count: e.count,
        meanTokens: e.meanCost,
        highTokens: e.highCost,
      },
    };
  });
  const probe = plan.expectedTokens ?? plan.worstTokens;
  const textArm = arms.find((a) => a.bin === text.bin);
  return {
    textOnly: { bin: text.bin, config: textArm?.config ?? text.arm.config },
    arms,
    accuracy: {
      low: Math.min(...arms.map((a) => a.evidence.accuracy)),
      high: Math.max(...arms.map((a) => a.evidence.accuracy)),
    },
    tokens: {
      low: probe + Math.min(...arms.map((a) => a.evidence.meanTokens)),
      high: probe + Math.max(...arms.map((a) => a.evidence.meanTokens)),
    },
  };
}

/** The arm each bin would get after the probe, within the rest of the cap (for a dry run's forecast). */
export function armsByBin(plan: ProbePlan): { bin: number; arm: PolicyArm }[] {
  const { policy } = plan;
  const spent = plan.expectedTokens ?? plan.worstTokens;
  const out: { bin: number; arm: PolicyArm }[] = [];
  const k = policy.probe?.samples ?? 0;
  for (let bin = 1; bin <= 5; bin++) {
    // Only arms within the generation cap after the probe: a bin with none has no forecast.
    if (binArms(policy, bin, plan.maxGenerations, k).length === 0) continue;
    const limits = { budget: plan.capTokens - spent, probed: k };
    const arm = armFor(
      policy,
      bin,
      plan.maxGenerations === undefined ? limits : { ...limits, maxGenerations: plan.maxGenerations },
    );
    if (arm) out.push({ bin, arm });
  }
  return out;
}
