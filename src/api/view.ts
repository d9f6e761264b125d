/** A solve as the API shows it, from what the Durable Object stores. */
import type { Execution } from "../engine/executor";
import { describeSpec, type StrategySpec } from "../engine/strategies";
import type { SolveView } from "./schemas";

export function toSolveView(solve: { id: string; spec: StrategySpec; createdAt: number }, exec: Execution): SolveView {
  const l = exec.ledger;
  return {
    id: solve.id,
    status: exec.status,
    ...(exec.stopReason ? { stopReason: exec.stopReason } : {}),
    ...(exec.detail ? { detail: exec.detail } : {}),
    strategy: describeSpec(solve.spec),
    answer: exec.outcome?.answer ?? null,
    confidence: exec.outcome ? exec.outcome.confidence : null,
    steps: exec.steps,
    spend: { generations: l.generations, samples: l.samples, tokens: l.tokens, verifierTokens: l.verifierTokens, flops: l.flops, money: l.money },
    createdAt: solve.createdAt,
  };
}
