/**
 * The executor's pure halves: starting a solve (and refusing a budget that cannot run it), planning the next
 * step within the caps (shrunk to fit when it must be), validating and pricing provider results, and
 * absorbing them. `executeStep.ts` runs a step around them with providers and a journal.
 */
import {
  cardOf,
  chargeCalls,
  NO_LARGE_MODEL,
  emptyLedger,
  exceededCap,
  fitWork,
  generationBound,
  MIN_COMPLETION_TOKENS,
  priceUsage,
  workBound,
  type Budget,
  type CallRecord,
  type CallWork,
  type CostModel,
  type Ledger,
  type Spend,
} from "./budget";
import { addPriced, formatAmount, noPriced, noSpend, SPEND_UNITS } from "./meter";
import {
  concludeStrategy,
  generationCost,
  runsOnLargeModel,
  initStrategy,
  planStrategy,
  absorbStrategy,
  type StrategySpec,
  type StrategyState,
} from "./strategies";
import type {
  Candidate,
  GenerateRequest,
  GenerateResponse,
  GeneratorRole,
  Problem,
  ScoreRequest,
  ScoreResponse,
  SolveOutcome,
  StopReason,
  Usage,
  WorkResults,
} from "./types";

export type { CallWork };

export interface Execution {
  strategy: StrategyState;
  budget: Budget;
  ledger: Ledger;
  /** Executor steps applied so far. */
  steps: number;
  status: "running" | "done";
  stopReason?: StopReason;
  /** Why the solve failed, or which cap stopped it. */
  detail?: string;
  outcome?: SolveOutcome;
  /** The first cap that made a step smaller than the strategy planned: the solve ends "budget", not "complete". */
  limitedBy?: keyof Spend;
}

export type StepPlan =
  | {
      kind: "call";
      work: CallWork;
      bound: Spend;
      /** The cap that made the strategy's step smaller, if one did. */ limitedBy?: keyof Spend;
    }
  | { kind: "finish"; reason: StopReason; outcome: SolveOutcome; detail?: string };

/** What refuses a solve: a budget field, or the strategy's `model` when that model is not configured. */
export type RefusedField = keyof Budget | "model";

/** Which field refuses a solve, and why. */
export interface BudgetRefusal {
  field: RefusedField;
  message: string;
}

export type StartResult = { ok: true; execution: Execution } | { ok: false; error: string; field: RefusedField };

/**
 * Why a budget cannot run this configuration at all, or null: its generation cost exceeds the generation
 * cap, or the caps cannot afford even one sample of the strategy's first step (its prompt and
 * MIN_COMPLETION_TOKENS completion tokens). Anything larger is shrunk to fit as the solve goes.
 */
export function refuseBudget(
  problem: Problem,
  spec: StrategySpec,
  budget: Budget,
  costs: CostModel,
  seed = 0,
): BudgetRefusal | null {
  if (runsOnLargeModel(spec) && !costs.cards.large) return { field: "model", message: NO_LARGE_MODEL };
  const cost = generationCost(spec);
  if (budget.generations !== undefined && cost > budget.generations) {
    return {
      field: "generations",
      message: `strategy costs ${cost} generations but the budget allows ${budget.generations}`,
    };
  }
  const first = planStrategy(initStrategy(problem, spec, seed));
  if (first.kind !== "generate" || first.requests[0] === undefined) return null;
  const req = first.requests[0];
  const one: GenerateRequest = { ...req, n: 1, maxTokens: Math.min(req.maxTokens, MIN_COMPLETION_TOKENS) };
  const minimum = generationBound([one], 0, costs);
  const cap = exceededCap(emptyLedger(), minimum, budget);
  if (cap === null) return null;
  return {
    field: cap,
    message: `is too small to buy one sample of this prompt: that needs at least ${formatAmount(cap, minimum[cap])} (its prompt and ${one.maxTokens} completion tokens)`,
  };
}

/** Start a solve. Refuses a budget that cannot run the configuration at all (see `refuseBudget`). */
export function startExecution(
  problem: Problem,
  spec: StrategySpec,
  budget: Budget,
  seed: number,
  costs: CostModel,
  given: Candidate[] = [],
): StartResult {
  const refused = refuseBudget(problem, spec, budget, costs, seed);
  if (refused) return { ok: false, error: refused.message, field: refused.field };
  return {
    ok: true,
    execution: {
      strategy: initStrategy(problem, spec, seed, given),
      budget,
      ledger: emptyLedger(),
      steps: 0,
      status: "running",
    },
  };
}

/** What to do next: call providers (with the step's worst-case spend, shrunk to fit the caps), or finish and why. */
export function planStep(exec: Execution, costs: CostModel, now: number): StepPlan {
  const work = planStrategy(exec.strategy);
  if (work.kind === "done") {
    if (!exec.limitedBy) return { kind: "finish", reason: "complete", outcome: work.outcome };
    return {
      kind: "finish",
      reason: "budget",
      outcome: work.outcome,
      detail: `the ${exec.limitedBy} cap made the search smaller than planned, or split it into smaller steps (fewer samples at once, shorter completions)`,
    };
  }
  if (exec.budget.deadline !== undefined && now >= exec.budget.deadline) {
    return {
      kind: "finish",
      reason: "deadline",
      outcome: concludeStrategy(exec.strategy),
      detail: "the deadline passed",
    };
  }
  // Token bounds mean rendering every prompt; skip them when only generations are capped.
  const b = exec.budget;
  const priced = SPEND_UNITS.some((u) => u !== "generations" && b[u] !== undefined);
  const bound = priced
    ? workBound(work, costs)
    : { ...noSpend(), generations: work.kind === "generate" ? work.generations : 0 };
  const cap = exceededCap(exec.ledger, bound, exec.budget);
  if (!cap) return { kind: "call", work, bound };
  const fitted = fitWork(work, exec.ledger, exec.budget, costs);
  if (fitted) return { kind: "call", work: fitted.work, bound: fitted.bound, limitedBy: cap };
  return {
    kind: "finish",
    reason: "budget",
    outcome: concludeStrategy(exec.strategy),
    detail: `the ${cap} cap is spent: not even one more sample or score fits`,
  };
}

export function finishExecution(
  exec: Execution,
  reason: StopReason,
  outcome: SolveOutcome,
  detail?: string,
): Execution {
  return { ...exec, status: "done", stopReason: reason, outcome, ...(detail ? { detail } : {}) };
}

/** End a running solve early (cancel, failure), keeping the best answer found so far. */
export function stopExecution(exec: Execution, reason: StopReason, detail?: string): Execution {
  return finishExecution(exec, reason, concludeStrategy(exec.strategy), detail);
}

/** Check that provider results answer the work exactly; a message naming the problem, or null. */
export function validateResults(work: CallWork, results: WorkResults): string | null {
  if (results.kind !== work.kind) return `expected ${work.kind} results, got ${results.kind}`;
  const expected = work.requests.length;
  if (!Array.isArray(results.responses)) return `expected ${expected} responses, got ${typeof results.responses}`;
  if (results.responses.length !== expected) return `expected ${expected} responses, got ${results.responses.length}`;
  for (let i = 0; i < expected; i++) {
    const response = results.responses[i];
    if (!response || !validUsage(response.usage)) return `response ${i} has no valid usage`;
    if (work.kind === "generate") {
      const req = work.requests[i] as GenerateRequest;
      const completions = (response as GenerateResponse).completions;
      if (!Array.isArray(completions) || completions.length !== req.n) {
        return `response ${i} has ${Array.isArray(completions) ? completions.length : "no"} completions, expected ${req.n}`;
      }
      if (completions.some((c) => typeof c?.text !== "string")) return `response ${i} has a completion without text`;
    } else {
      const req = work.requests[i] as ScoreRequest;
      const scores = (response as ScoreResponse).scores;
      if (!Array.isArray(scores) || scores.length !== req.steps.length) {
        return `response ${i} has ${Array.isArray(scores) ? scores.length : "no"} step scores, expected ${req.steps.length}`;
      }
      if (scores.some((s) => typeof s !== "number" || !(s >= 0 && s <= 1)))
        return `response ${i} has a score outside [0, 1]`;
    }
  }
  return null;
}

function validUsage(u: unknown): u is Usage {
  const usage = u as { promptTokens?: unknown; completionTokens?: unknown } | undefined;
  return (
    typeof usage?.promptTokens === "number" &&
    typeof usage.completionTokens === "number" &&
    usage.promptTokens >= 0 &&
    usage.completionTokens >= 0 &&
    Number.isFinite(usage.promptTokens + usage.completionTokens)
  );
}

export function roleOf(work: CallWork, i: number): GeneratorRole | "verifier" {
  return work.kind === "generate" ? (work.requests[i] as GenerateRequest).role : "verifier";
}

/**
 * The step's provider calls, one record per role, priced from the usage the providers reported. Responses
 * without valid usage (or no results at all: the provider failed) count their requests and nothing else.
 */
export function priceCalls(
  step: number,
  work: CallWork,
  results: WorkResults | undefined,
  costs: CostModel,
  status: CallRecord["status"],
  latencyMs = 0,
): CallRecord[] {
  const byRole = new Map<GeneratorRole | "verifier", CallRecord>();
  const responses: unknown[] = Array.isArray((results as { responses?: unknown } | undefined)?.responses)
    ? (results as { responses: unknown[] }).responses
    : [];
  work.requests.forEach((_, i) => {
    const role = roleOf(work, i);
    const card = cardOf(costs, role);
    let rec = byRole.get(role);
    if (!rec) {
      rec = {
        step,
        role,
        provider: card.name,
        purpose: work.kind,
        requests: 0,
        samples: 0,
        promptTokens: 0,
        completionTokens: 0,
        ...noPriced(),
        latencyMs,
        status,
      };
      byRole.set(role, rec);
    }
    rec.requests += 1;
    const response = responses[i] as { usage?: unknown; completions?: unknown; estimated?: unknown } | undefined;
    if (!response || !validUsage(response.usage)) return;
    if (response.estimated === true) rec.estimated = true;
    rec.promptTokens += response.usage.promptTokens;
    rec.completionTokens += response.usage.completionTokens;
    addPriced(rec, priceUsage(card, response.usage));
    if (status === "ok" && Array.isArray(response.completions)) rec.samples += response.completions.length;
  });
  return [...byRole.values()];
}

/**
 * Record what the step cost and absorb its results. Results that do not answer the work fail the solve with
 * the best answer so far; what the providers reported using was billed all the same, so it is charged.
 */
export function applyStep(
  exec: Execution,
  plan: AppliedPlan,
  results: WorkResults,
  costs: CostModel,
  latencyMs = 0,
): { exec: Execution; calls: CallRecord[] } {
  const { work } = plan;
  const problem = validateResults(work, results);
  const calls = priceCalls(exec.steps, work, results, costs, problem ? "invalid" : "ok", latencyMs);
  const ledger = chargeCalls(exec.ledger, calls);
  if (problem) return { exec: stopExecution({ ...exec, ledger }, "failed", `provider error: ${problem}`), calls };
  const generations = work.kind === "generate" ? work.generations : 0;
  const limitedBy = exec.limitedBy ?? plan.limitedBy;
  return {
    exec: {
      ...exec,
      ledger: { ...ledger, generations: ledger.generations + generations },
      steps: exec.steps + 1,
      strategy: absorbStrategy(exec.strategy, results),
      ...(limitedBy ? { limitedBy } : {}),
    },
    calls,
  };
}

/** The part of a planned call that applying its results needs (what a journal keeps). */
export type AppliedPlan = { work: CallWork; limitedBy?: keyof Spend };

export type { StopReason };
