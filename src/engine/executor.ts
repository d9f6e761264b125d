/**
 * The executor: turns a strategy's planned work into batched provider calls, keeps the ledger, enforces
 * the hard caps and the deadline, and feeds results back. It is split so that a host can persist between
 * the halves: `planStep` (pure) says what to call and what it may cost; the host makes the calls (and may
 * store the raw results first, so a retried step never pays twice); `applyStep` (pure) validates and absorbs
 * them. `runStep`/`runSolve` chain the halves for hosts that keep everything in memory.
 */
import {
  emptyLedger,
  exceededCap,
  generationBound,
  recordGeneration,
  recordScoring,
  scoringBound,
  type Budget,
  type CostModel,
  type Ledger,
  type Spend,
} from "./budget";
import { absorbStrategy, concludeStrategy, initStrategy, planStrategy, type StrategyState } from "./strategies";
import { generationCost, type StrategySpec } from "./strategies/spec";
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
  Work,
  WorkResults,
} from "./types";

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
}

export type CallWork = Extract<Work, { kind: "generate" | "score" }>;

export type StepPlan =
  | { kind: "call"; work: CallWork; bound: Spend }
  | { kind: "finish"; reason: StopReason; outcome: SolveOutcome; detail?: string };

export type StartResult = { ok: true; execution: Execution } | { ok: false; error: string };

/** Start a solve. Refuses a configuration whose generation cost alone exceeds the budget. */
export function startExecution(problem: Problem, spec: StrategySpec, budget: Budget, seed: number, given: Candidate[] = []): StartResult {
  const cost = generationCost(spec);
  if (budget.generations !== undefined && cost > budget.generations) {
    return { ok: false, error: `strategy costs ${cost} generations but the budget allows ${budget.generations}` };
  }
  if (budget.generations !== undefined && budget.generations < 1) {
    return { ok: false, error: "budget.generations must be at least 1" };
  }
  return {
    ok: true,
    execution: { strategy: initStrategy(problem, spec, seed, given), budget, ledger: emptyLedger(), steps: 0, status: "running" },
  };
}

/** What to do next: call providers (with the step's worst-case spend), or finish and why. */
export function planStep(exec: Execution, costs: CostModel, now: number): StepPlan {
  const work = planStrategy(exec.strategy);
  if (work.kind === "done") return { kind: "finish", reason: "complete", outcome: work.outcome };
  if (exec.budget.deadline !== undefined && now >= exec.budget.deadline) {
    return { kind: "finish", reason: "deadline", outcome: concludeStrategy(exec.strategy) };
  }
  // Token bounds mean rendering every prompt; skip them when only generations are capped.
  const b = exec.budget;
  const priced = b.tokens !== undefined || b.money !== undefined || b.flops !== undefined;
  const bound = !priced
    ? { generations: work.kind === "generate" ? work.generations : 0, tokens: 0, money: 0, flops: 0 }
    : work.kind === "generate"
      ? generationBound(work.requests, work.generations, costs)
      : scoringBound(work.requests, costs);
  const cap = exceededCap(exec.ledger, bound, exec.budget);
  if (cap) {
    return { kind: "finish", reason: "budget", outcome: concludeStrategy(exec.strategy), detail: `the next step could exceed the ${cap} cap` };
  }
  return { kind: "call", work, bound };
}

export function finishExecution(exec: Execution, reason: StopReason, outcome: SolveOutcome, detail?: string): Execution {
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
      if (scores.some((s) => typeof s !== "number" || !(s >= 0 && s <= 1))) return `response ${i} has a score outside [0, 1]`;
    }
  }
  return null;
}

function validUsage(u: unknown): boolean {
  const usage = u as { promptTokens?: unknown; completionTokens?: unknown } | undefined;
  return (
    typeof usage?.promptTokens === "number" &&
    typeof usage.completionTokens === "number" &&
    usage.promptTokens >= 0 &&
    usage.completionTokens >= 0 &&
    Number.isFinite(usage.promptTokens + usage.completionTokens)
  );
}

/** Record spend and absorb validated results. Invalid results fail the solve with the best answer so far. */
export function applyStep(exec: Execution, work: CallWork, results: WorkResults, costs: CostModel): Execution {
  const problem = validateResults(work, results);
  if (problem) {
    // What the providers reported using was billed even if the answer is unusable: count it.
    return stopExecution({ ...exec, ledger: recordUsable(exec.ledger, work, results, costs) }, "failed", `provider error: ${problem}`);
  }
  let ledger = exec.ledger;
  if (work.kind === "generate" && results.kind === "generate") {
    const roles = new Set<GeneratorRole>();
    work.requests.forEach((req, i) => {
      const response = results.responses[i] as GenerateResponse;
      roles.add(req.role);
      ledger = recordGeneration(ledger, req.role, response.usage, response.completions.length, costs);
    });
    ledger = { ...ledger, generations: ledger.generations + work.generations, calls: ledger.calls + roles.size };
  } else if (results.kind === "score") {
    for (const response of results.responses) ledger = recordScoring(ledger, response.usage, costs);
    ledger = { ...ledger, calls: ledger.calls + 1 };
  }
  return { ...exec, ledger, steps: exec.steps + 1, strategy: absorbStrategy(exec.strategy, results) };
}

/** Spend of the responses that carry valid usage, for results rejected as a whole. */
function recordUsable(ledger: Ledger, work: CallWork, results: WorkResults, costs: CostModel): Ledger {
  const responses: unknown = (results as { responses?: unknown }).responses;
  if (!Array.isArray(responses)) return ledger;
  let out = ledger;
  responses.forEach((response: { usage?: unknown } | undefined, i) => {
    if (!response || !validUsage(response.usage) || i >= work.requests.length) return;
    const usage = response.usage as { promptTokens: number; completionTokens: number };
    out = work.kind === "generate" ? recordGeneration(out, (work.requests[i] as GenerateRequest).role, usage, 0, costs) : recordScoring(out, usage, costs);
  });
  return out;
}

/** The providers a solve calls; one call per role per executor step. */
export interface ProviderSet {
  generate(role: GeneratorRole, requests: GenerateRequest[]): Promise<GenerateResponse[]>;
  score(requests: ScoreRequest[]): Promise<ScoreResponse[]>;
}

/** Make the calls of one planned step: requests grouped by role, one batch per provider, run concurrently. */
export async function callProviders(work: CallWork, providers: ProviderSet): Promise<WorkResults> {
  if (work.kind === "score") return { kind: "score", responses: await providers.score(work.requests) };
  const byRole = new Map<GeneratorRole, number[]>();
  work.requests.forEach((req, i) => {
    const list = byRole.get(req.role) ?? [];
    list.push(i);
    byRole.set(req.role, list);
  });
  const responses: GenerateResponse[] = new Array(work.requests.length);
  await Promise.all(
    [...byRole].map(async ([role, indices]) => {
      const out = await providers.generate(role, indices.map((i) => work.requests[i] as GenerateRequest));
      if (!Array.isArray(out) || out.length !== indices.length) {
        throw new Error(`the ${role} provider returned ${Array.isArray(out) ? out.length : "no"} responses for ${indices.length} requests`);
      }
      indices.forEach((i, j) => (responses[i] = out[j] as GenerateResponse));
    }),
  );
  return { kind: "generate", responses };
}

/** One step in memory: plan, call, apply. A provider that throws fails the solve with its message. */
export async function runStep(exec: Execution, providers: ProviderSet, costs: CostModel, now: number): Promise<Execution> {
  if (exec.status === "done") return exec;
  const plan = planStep(exec, costs, now);
  if (plan.kind === "finish") return finishExecution(exec, plan.reason, plan.outcome, plan.detail);
  let results: WorkResults;
  try {
    results = await callProviders(plan.work, providers);
  } catch (err) {
    return stopExecution(exec, "failed", `provider error: ${err instanceof Error ? err.message : String(err)}`);
  }
  return applyStep(exec, plan.work, results, costs);
}

/** Run to the end in memory (evaluation sweeps, tests). `now` is the host's clock. */
export async function runToEnd(exec: Execution, providers: ProviderSet, costs: CostModel, now: () => number = () => 0): Promise<Execution> {
  let current = exec;
  while (current.status === "running") current = await runStep(current, providers, costs, now());
  return current;
}

export type { StopReason };
