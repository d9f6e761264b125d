/** A solve as the API shows it, from what the Durable Object stores. */
import type { Budget } from "../engine/budget";
import { describeSpec, type StrategySpec } from "../engine/strategies";
import type { AutoDecision } from "../policy/auto";
import { probeLabel, type ProbedExecution, type ProbePhase, type ProbePlan } from "../policy/probeStep";
import type { PolicyView, SolveView } from "./schemas";

export function toSolveView(
  solve: {
    id: string;
    spec: StrategySpec;
    createdAt: number;
    policy?: AutoDecision | undefined;
    budget?: Budget | undefined;
  },
  exec: ProbedExecution,
): SolveView {
  const l = exec.ledger;
  const policy = policyView(solve.policy, exec.probe);
  return {
    id: solve.id,
    status: exec.status,
    ...(exec.stopReason ? { stopReason: exec.stopReason } : {}),
    ...(exec.detail ? { detail: exec.stopReason === "failed" ? publicFailure(exec.detail) : exec.detail } : {}),
    // While an auto solve probes, what runs is the probe; then the arm chosen after it.
    strategy:
      exec.probe?.phase === "probing"
        ? probeLabel(exec.probe.plan.policy.probe?.samples ?? 0)
        : describeSpec(exec.probe?.phase === "decided" ? exec.probe.decision.strategy : solve.spec),
    ...(policy ? { policy } : {}),
    answer: exec.outcome?.answer ?? null,
    confidence: exec.outcome ? exec.outcome.confidence : null,
    steps: exec.steps,
    spend: {
      generations: l.generations,
      samples: l.samples,
      tokens: l.tokens,
      verifierTokens: l.verifierTokens,
      flops: l.flops,
      money: l.money,
    },
    ...(solve.budget ? { budget: budgetView(solve.budget, solve.createdAt) } : {}),
    createdAt: solve.createdAt,
  };
}

/** A solve's caps as the API writes them: the deadline relative to the solve's start. */
function budgetView(b: Budget, createdAt: number): NonNullable<SolveView["budget"]> {
  const { deadline, ...caps } = b;
  return { ...caps, ...(deadline !== undefined ? { deadlineMs: Math.max(0, deadline - createdAt) } : {}) };
}

/**
 * What a client is told about a failure: our own words, never a provider's answer or an internal message
 * (those are in the service log, written when the solve ends).
 */
export function publicFailure(detail: string): string {
  const http = /^(.*?HTTP \d{3})/.exec(detail);
  if (http) return `${http[1]} (the provider's answer is in the service log)`;
  if (/^(internal|configuration) error/.test(detail))
    return `${detail.startsWith("internal") ? "internal" : "configuration"} error (details are in the service log)`;
  if (/request failed:/.test(detail))
    return `${detail.slice(0, detail.indexOf("request failed:"))}request failed (details are in the service log)`;
  return detail;
}

/**
 * An auto solve's `policy` as the API shows it: `decided` (at the edge, or inside the solve after its probe),
 * or `probing` (the probe has not finished; a solve that is done in this state stopped during the probe).
 */
export function policyView(decided: AutoDecision | undefined, probe: ProbePhase | undefined): PolicyView | undefined {
  if (probe?.phase === "probing") return probingView(probe.plan);
  if (probe?.phase === "decided") return { state: "decided", ...probe.decision };
  return decided ? { state: "decided", ...decided } : undefined;
}

export function probingView(plan: ProbePlan): Extract<PolicyView, { state: "probing" }> {
  const p = plan.policy.probe;
  return {
    state: "probing",
    policyVersion: plan.policy.version,
    estimator: "probe",
    capTokens: plan.capTokens,
    capFrom: plan.capFrom,
    probe: {
      samples: p?.samples ?? 0,
      temperature: p?.temperature ?? 0,
      worstTokens: plan.worstTokens,
      expectedTokens: plan.expectedTokens,
    },
  };
}
