/** A solve as the API shows it, from what the Durable Object stores. */
import type { Execution } from "../engine/executor";
import { describeSpec, type StrategySpec } from "../engine/strategies";
import type { AutoDecision } from "../policy/auto";
import type { SolveView } from "./schemas";

export function toSolveView(solve: { id: string; spec: StrategySpec; createdAt: number; policy?: AutoDecision | undefined }, exec: Execution): SolveView {
  const l = exec.ledger;
  return {
    id: solve.id,
    status: exec.status,
    ...(exec.stopReason ? { stopReason: exec.stopReason } : {}),
    ...(exec.detail ? { detail: exec.stopReason === "failed" ? publicFailure(exec.detail) : exec.detail } : {}),
    strategy: describeSpec(solve.spec),
    ...(solve.policy ? { policy: solve.policy } : {}),
    answer: exec.outcome?.answer ?? null,
    confidence: exec.outcome ? exec.outcome.confidence : null,
    steps: exec.steps,
    spend: { generations: l.generations, samples: l.samples, tokens: l.tokens, verifierTokens: l.verifierTokens, flops: l.flops, money: l.money },
    createdAt: solve.createdAt,
  };
}

/**
 * What a client is told about a failure: our own words, never a provider's answer or an internal message
 * (those are in the service log, written when the solve ends).
 */
export function publicFailure(detail: string): string {
  const http = /^(.*?HTTP \d{3})/.exec(detail);
  if (http) return `${http[1]} (the provider's answer is in the service log)`;
  if (/^(internal|configuration) error/.test(detail)) return `${detail.startsWith("internal") ? "internal" : "configuration"} error (details are in the service log)`;
  if (/request failed:/.test(detail)) return `${detail.slice(0, detail.indexOf("request failed:"))}request failed (details are in the service log)`;
  return detail;
}
