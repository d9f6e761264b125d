/** Writing a finished solve to D1: its summary row and its provider calls, in one batch. */
import type { AutoDecision } from "../policy/auto";
import { promptFeatures } from "../policy/features";
import { PROBE_FEATURES } from "../policy/probe";
import { probeLabel, type ProbedExecution, type ProbePhase } from "../policy/probeStep";
import { drizzle } from "drizzle-orm/d1";
import { getTableColumns } from "drizzle-orm";
import type { CallRecord } from "../engine/budget";
import { hashString } from "../engine/random";
import { describeSpec } from "../engine/strategies";
import type { SolveMeta } from "../solve/input";
import { providerCalls, solves } from "./schema";

/** D1 binds at most 100 parameters per statement. */
const D1_MAX_BOUND = 100;
/** Columns bound per provider_calls row (all but the generated id). */
const CALL_COLUMNS = Object.keys(getTableColumns(providerCalls)).length - 1;
const CALLS_PER_INSERT = Math.floor(D1_MAX_BOUND / CALL_COLUMNS);

/**
 * Insert the solve and its calls in one batch (D1 runs a batch as one transaction). Both inserts skip rows
 * already there (the solve by id, a call by solve and position in its log), so a write retried after it
 * succeeded but before the object noted it adds nothing.
 */
export async function recordSolve(
  db: D1Database,
  meta: SolveMeta,
  exec: ProbedExecution,
  calls: readonly CallRecord[],
  finishedAt: number,
): Promise<void> {
  const d = drizzle(db);
  const l = exec.ledger;
  const { input } = meta;
  // An auto solve that probed first: the arm chosen after the probe (or, stopped during it, the probe).
  const decision = exec.probe?.phase === "decided" ? exec.probe.decision : input.policy;
  const spec = exec.probe?.phase === "decided" ? exec.probe.decision.strategy : input.spec;
  const strategy =
    exec.probe?.phase === "probing" ? probeLabel(exec.probe.plan.policy.probe?.samples ?? 0) : describeSpec(spec);
  const statements = [
    d
      .insert(solves)
      .values({
        id: input.id,
        tenantId: input.tenantId,
        keyId: input.keyId,
        promptHash: hashString(input.prompt).toString(16),
        status: exec.status,
        stopReason: exec.stopReason ?? null,
        detail: exec.detail ?? null,
        strategy,
        spec: JSON.stringify(spec),
        budget: JSON.stringify(input.budget),
        seed: input.seed,
        answer: exec.outcome?.answer ?? null,
        confidence: exec.outcome?.confidence ?? null,
        generations: l.generations,
        samples: l.samples,
        generatorTokens: l.generatorPromptTokens + l.generatorCompletionTokens,
        verifierTokens: l.verifierTokens,
        flops: l.flops,
        money: l.money,
        steps: exec.steps,
        createdAt: meta.createdAt,
        finishedAt,
        ...autoColumns(input.prompt, decision, exec.probe),
      })
      .onConflictDoNothing(),
  ];
  for (let i = 0; i < calls.length; i += CALLS_PER_INSERT) {
    statements.push(
      d
        .insert(providerCalls)
        .values(
          calls.slice(i, i + CALLS_PER_INSERT).map((c, j) => ({
            solveId: input.id,
            seq: i + j,
            step: c.step,
            provider: c.provider,
            purpose: `${c.purpose}:${c.role}`,
            requests: c.requests,
            samples: c.samples,
            promptTokens: c.promptTokens,
            completionTokens: c.completionTokens,
            latencyMs: c.latencyMs,
            status: c.status,
            estimated: c.estimated ? 1 : 0,
            cost: c.money,
          })),
        )
        .onConflictDoNothing() as unknown as (typeof statements)[number],
    );
  }
  await d.batch(statements as [(typeof statements)[number], ...(typeof statements)[number][]]);
}

/**
 * What an auto solve's row records for a re-tune: the policy version, the predicted bin, the estimator, and
 * the estimator's inputs — the text features, then (estimator `probe`) the probe's features in the policy's
 * order. A solve stopped during its probe records the version and estimator and no bin: it never chose.
 */
function autoColumns(prompt: string, decision: AutoDecision | undefined, probe: ProbePhase | undefined) {
  if (probe?.phase === "probing")
    return {
      policyVersion: probe.plan.policy.version,
      predictedBin: null,
      estimator: "probe",
      exploration: 0,
      features: JSON.stringify(promptFeatures(prompt)),
    };
  if (!decision) return {};
  const probed = decision.probe ? PROBE_FEATURES.map((name) => decision.probe?.features[name] ?? 0) : [];
  return {
    policyVersion: decision.policyVersion,
    predictedBin: decision.bin,
    estimator: decision.estimator,
    exploration: decision.exploration ? 1 : 0,
    features: JSON.stringify([...promptFeatures(prompt), ...probed]),
    capTokens: Number.isFinite(decision.capTokens) ? decision.capTokens : null,
    capCost:
      decision.costUnit && decision.costUnit !== "tokens" && Number.isFinite(decision.capCost)
        ? decision.capCost
        : null,
    propensity: decision.propensity,
  };
}
