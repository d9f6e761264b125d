/**
 * One executor step with its journal: the step every host runs. The Durable Object passes a journal that
 * keeps the step's intent before its provider calls and its results before they are absorbed (so a step
 * retried after a crash never pays twice, and whatever a lost call may have cost is charged); the in-process
 * runner (`runToEnd`) passes none.
 */
import {
  cardOf,
  chargeCalls,
  exceededCap,
  priceUsage,
  workBound,
  type CallRecord,
  type CallWork,
  type CostModel,
  type Ledger,
  type Spend,
} from "./budget";
import {
  applyStep,
  finishExecution,
  planStep,
  priceCalls,
  roleOf,
  stopExecution,
  type AppliedPlan,
  type Execution,
} from "./executor";
import type {
  BilledAttempt,
  CallContext,
  GenerateRequest,
  GenerateResponse,
  GeneratorRole,
  ScoreRequest,
  ScoreResponse,
  StopReason,
  Usage,
  WorkResults,
} from "./types";

/** The providers a solve calls; one call per role per executor step. */
export interface ProviderSet {
  generate(role: GeneratorRole, requests: GenerateRequest[], ctx?: CallContext): Promise<GenerateResponse[]>;
  score(requests: ScoreRequest[], ctx?: CallContext): Promise<ScoreResponse[]>;
  /** Outbound HTTP requests these requests may take, retries included; absent for providers in process. */
  subrequests?(role: GeneratorRole | "verifier", requests: readonly (GenerateRequest | ScoreRequest)[]): number;
}

/** What `callProviders` tells each provider: a request id per role, the deadline, where billed attempts go. */
export interface CallOptions {
  requestId?: string;
  deadline?: number;
  billed?(role: GeneratorRole | "verifier", attempt: BilledAttempt): void;
  mayRetry?(): boolean;
  signal?: AbortSignal;
}

function contextFor(role: GeneratorRole | "verifier", options: CallOptions | undefined): CallContext | undefined {
  if (!options) return undefined;
  return {
    ...(options.requestId !== undefined ? { requestId: `${options.requestId}:${role}` } : {}),
    ...(options.deadline !== undefined ? { deadline: options.deadline } : {}),
    billed: (attempt) => options.billed?.(role, attempt),
    ...(options.mayRetry ? { mayRetry: options.mayRetry } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  };
}

/**
 * A sample ends at the first of the caller's stop sequences, as an OpenAI server ends it (the stop itself is
 * not part of the text): applied here too, for providers that ignore `stop` or were not sent it.
 */
export function cutAtStop(response: GenerateResponse, stop: readonly string[] | undefined): GenerateResponse {
  if (!stop?.length || !response?.completions) return response;
  return {
    ...response,
    completions: response.completions.map((c) => {
      const at = Math.min(...stop.map((s) => c.text.indexOf(s)).filter((i) => i >= 0));
      return Number.isFinite(at) ? { text: c.text.slice(0, at), finishReason: "stop" as const } : c;
    }),
  };
}

/** Make the calls of one planned step: requests grouped by role, one batch per provider, run concurrently. */
export async function callProviders(
  work: CallWork,
  providers: ProviderSet,
  options?: CallOptions,
): Promise<WorkResults> {
  if (work.kind === "score")
    return { kind: "score", responses: await providers.score(work.requests, contextFor("verifier", options)) };
  const byRole = new Map<GeneratorRole, number[]>();
  work.requests.forEach((req, i) => {
    const list = byRole.get(req.role) ?? [];
    list.push(i);
    byRole.set(req.role, list);
  });
  const responses: GenerateResponse[] = new Array(work.requests.length);
  const settled = await Promise.allSettled(
    [...byRole].map(async ([role, indices]) => {
      const out = await providers.generate(
        role,
        indices.map((i) => work.requests[i] as GenerateRequest),
        contextFor(role, options),
      );
      if (!Array.isArray(out) || out.length !== indices.length) {
        throw new Error(
          `the ${role} provider returned ${Array.isArray(out) ? out.length : "no"} responses for ${indices.length} requests`,
        );
      }
      indices.forEach((i, j) => (responses[i] = cutAtStop(out[j] as GenerateResponse, work.requests[i]!.stop)));
      return { role, out };
    }),
  );
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failure) {
    // The roles that answered beside the one that failed were billed: report them before failing.
    for (const s of settled) {
      if (s.status !== "fulfilled") continue;
      for (const r of s.value.out)
        if (r?.usage)
          options?.billed?.(s.value.role, {
            usage: r.usage,
            estimated: false,
            detail: "answered beside a provider that failed",
          });
    }
    throw failure.reason;
  }
  return { kind: "generate", responses };
}

/** Worst-case usage of each role's share of a step: every prompt billed in full, every completion at max_tokens. */
export function boundUsage(work: CallWork, costs: CostModel): Map<GeneratorRole | "verifier", Usage> {
  const out = new Map<GeneratorRole | "verifier", Usage>();
  work.requests.forEach((req, i) => {
    const role = roleOf(work, i);
    const u = out.get(role) ?? { promptTokens: 0, completionTokens: 0 };
    if (work.kind === "generate") {
      const g = req as GenerateRequest;
      u.promptTokens += costs.promptTokenBound(g);
      u.completionTokens += g.n * g.maxTokens;
    } else u.promptTokens += costs.scoreTokenBound(req as ScoreRequest);
    out.set(role, u);
  });
  return out;
}

/** One call record for usage that was billed outside the step's answer (discarded attempts, interrupted calls). */
function extraRecord(
  step: number,
  work: CallWork,
  role: GeneratorRole | "verifier",
  usage: Usage,
  costs: CostModel,
  status: CallRecord["status"],
  estimated: boolean,
): CallRecord {
  const card = cardOf(costs, role);
  return {
    step,
    role,
    provider: card.name,
    purpose: work.kind,
    requests: 0,
    samples: 0,
    promptTokens: usage.promptTokens,
    completionTokens: usage.completionTokens,
    ...priceUsage(card, usage),
    latencyMs: 0,
    status,
    ...(estimated ? { estimated } : {}),
  };
}

/** A step's provider calls as a durable host records them: the plan, then its progress, before every call. */
export interface StepIntent extends AppliedPlan {
  step: number;
  /** How many times this step's calls were charged as interrupted and made anew (part of their request ids). */
  interruptions: number;
  /** How many times the host died with this step's calls in flight, replayed or not. */
  crashes?: number;
  /** What interrupted calls were charged (at their worst case), carried until the step commits. */
  prior: CallRecord[];
  /** Responses so far, to the first `received.length` requests (a step split across invocations). */
  received: (GenerateResponse | ScoreResponse)[];
  /** Billed attempts thrown away so far, charged with the step. */
  discarded: CallRecord[];
  providerMs: number;
  /** The requests being called now, recorded before the call: found after a crash, they were interrupted. */
  inFlight?: { offset: number; count: number };
}

/** A step's results as kept by a durable host between the provider calls and the commit. */
export interface StepResults extends StepIntent {
  results: WorkResults;
}

/**
 * Where a durable host keeps a step's intent before its provider calls, and its paid-for results until it
 * commits the step's new state.
 */
export interface StepJournal {
  recall(step: number): Promise<StepIntent | StepResults | undefined>;
  keep(entry: StepIntent | StepResults): Promise<void>;
}

/** What a host gives the executor. */
export interface StepPorts {
  providers: ProviderSet;
  costs: CostModel;
  /** The host's clock, epoch milliseconds. */
  now(): number;
  journal?: StepJournal;
  /** Whether the caller asked the solve to stop. Checked before a step and again once its calls returned. */
  cancelRequested?(): boolean | Promise<boolean>;
  /**
   * Aborted when the caller cancels: provider calls in flight stop at once, what they may have cost is
   * charged (at its worst case when unknown), and the solve stops as cancelled with the best answer so far.
   */
  signal?: AbortSignal;
  /** Names the solve in request ids sent to providers (with the step, the attempt, the offset and the role). */
  requestKey?: string;
  /**
   * Outbound requests this step may still make in the host's invocation (`left`) out of what a fresh one
   * allows (`perInvocation`). A step that needs more is split: it calls what fits and yields.
   */
  subrequests?: { left: number; perInvocation: number };
  /**
   * Runs on the execution once a step's results are absorbed, before a cancel that arrived meanwhile is
   * honoured: a layer above may change course here (src/policy/probeStep.ts chooses an auto solve's arm once
   * its probe is scored), so the step that made the change commits it.
   */
  afterApply?(exec: Execution): Execution;
}

export interface StepReport {
  exec: Execution;
  /** The provider calls this step made or was charged for (empty when none), to log beside the new state. */
  calls: CallRecord[];
  /** Time spent waiting for providers. */
  providerMs: number;
  /** Outbound requests the step may have made (retries counted at their most). */
  subrequests: number;
  /** The step is not finished: it called what fit in the invocation and continues in the next. */
  yielded?: boolean;
}

const CANCELLED = "cancelled by the caller";

function hasResults(entry: StepIntent | StepResults): entry is StepResults {
  return (entry as StepResults).results !== undefined;
}

function sliceWork(work: CallWork, offset: number, count: number): CallWork {
  return work.kind === "generate"
    ? { kind: "generate", generations: work.generations, requests: work.requests.slice(offset, offset + count) }
    : { kind: "score", requests: work.requests.slice(offset, offset + count) };
}

/** Outbound requests a slice of work makes, by the providers' own count (0 when they do not say). */
function subrequestsOf(work: CallWork, providers: ProviderSet): number {
  if (!providers.subrequests) return 0;
  if (work.kind === "score") return providers.subrequests("verifier", work.requests);
  let total = 0;
  for (const role of roles(work))
    total += providers.subrequests(
      role,
      work.requests.filter((r) => r.role === role),
    );
  return total;
}

/** How many of the remaining requests fit in the invocation's subrequests (at least one in a fresh invocation). */
function chunkSize(work: CallWork, offset: number, ports: StepPorts): number {
  const remaining = work.requests.length - offset;
  const limit = ports.subrequests;
  if (!limit || !ports.providers.subrequests) return remaining;
  let lo = 0;
  let hi = remaining;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (subrequestsOf(sliceWork(work, offset, mid), ports.providers) <= limit.left) lo = mid;
    else hi = mid - 1;
  }
  return lo === 0 && limit.left >= limit.perInvocation ? 1 : lo;
}

/**
 * One executor step: plan, record the intent, call the providers, keep the results, absorb.
 *
 * - A step whose results the journal already holds is absorbed without calling again.
 * - Calls found in flight in the journal were interrupted by a crash: if every provider they went to replays
 *   repeated request ids, they are made again under the same ids (billed once); otherwise what they may
 *   have billed is charged at its worst case, marked `interrupted`, and the caps see it before anything else
 *   is called (a step with nothing received yet is planned anew).
 * - A step that needs more outbound requests than the invocation has left is split: it calls what fits,
 *   journals the responses and yields; the next invocation goes on from there.
 * - Billed attempts the adapters threw away are charged as `discarded`, whatever the step's fate.
 * - A provider that throws fails the solve (or stops it at its deadline) with the best answer so far; a
 *   cancel that arrives while the providers work takes effect once the step is counted.
 */
export async function executeStep(exec: Execution, ports: StepPorts): Promise<StepReport> {
  if (exec.status === "done") return { exec, calls: [], providerMs: 0, subrequests: 0 };
  const kept = await ports.journal?.recall(exec.steps);
  if (kept && hasResults(kept)) return finishStep(exec, kept, ports, 0);
  const recovered = kept ? recover(exec, kept, ports.costs) : undefined;
  if (recovered && (recovered.intent.crashes ?? 0) > MAX_CRASHES)
    return abandon(
      exec,
      recovered.intent,
      ports.costs,
      "failed",
      `the host died ${MAX_CRASHES + 1} times during this step's provider calls`,
    );
  let intent = recovered?.intent;
  if (!intent || recovered?.replan) {
    const prior = intent?.prior ?? [];
    const base = charge(exec, prior);
    if (await ports.cancelRequested?.())
      return { exec: stopExecution(base, "cancelled", CANCELLED), calls: prior, providerMs: 0, subrequests: 0 };
    const plan = planStep(base, ports.costs, ports.now());
    if (plan.kind === "finish")
      return {
        exec: finishExecution(base, plan.reason, plan.outcome, plan.detail),
        calls: prior,
        providerMs: 0,
        subrequests: 0,
      };
    intent = {
      step: exec.steps,
      work: plan.work,
      ...(plan.limitedBy ? { limitedBy: plan.limitedBy } : {}),
      interruptions: intent?.interruptions ?? 0,
      prior,
      received: [],
      discarded: [],
      providerMs: 0,
    };
  }
  return callChunk(exec, intent, ports);
}

/** A journaled step found without results: what to do about calls that were in flight when the host died. */
function recover(exec: Execution, kept: StepIntent, costs: CostModel): { intent: StepIntent; replan: boolean } {
  if (!kept.inFlight) return { intent: kept, replan: false };
  const crashes = (kept.crashes ?? 0) + 1;
  const lost = sliceWork(kept.work, kept.inFlight.offset, kept.inFlight.count);
  const replays = roles(lost).every((role) => cardOf(costs, role).replaysRequests === true);
  if (replays && crashes <= MAX_CRASHES) return { intent: { ...kept, crashes }, replan: false };
  // Not replayed (the provider does not, or the step keeps crashing): charged at its worst case.
  const charged = [...boundUsage(lost, costs)].map(([role, usage]) =>
    extraRecord(exec.steps, lost, role, usage, costs, "interrupted", true),
  );
  const { inFlight: _lost, ...rest } = kept;
  return {
    intent: { ...rest, crashes, interruptions: kept.interruptions + 1, prior: [...kept.prior, ...charged] },
    replan: kept.received.length === 0,
  };
}

/**
 * A step whose calls took the host down this many times is not tried again: something about it (a response
 * too large to hold, a call outliving the invocation) will do the same next time.
 */
const MAX_CRASHES = 3;

/** What the step has cost so far: interrupted and discarded charges, and the responses received. */
function spentSoFar(exec: Execution, intent: StepIntent, costs: CostModel): Ledger {
  return chargeCalls(exec.ledger, [
    ...intent.prior,
    ...intent.discarded,
    ...receivedRecords(exec.steps, intent, costs, "ok"),
  ]);
}

/** Call the next part of the step's requests (all of them unless the invocation's subrequests are short). */
async function callChunk(exec: Execution, planned: StepIntent, ports: StepPorts): Promise<StepReport> {
  let intent = planned;
  const { work } = intent;
  const offset = intent.received.length;
  if (!intent.inFlight && (offset > 0 || intent.prior.length > 0 || intent.discarded.length > 0)) {
    // Charges since the step was planned may leave no room for the rest of it: keep what was received.
    const cap = exceededCap(
      spentSoFar(exec, intent, ports.costs),
      workBound(sliceWork(work, offset, work.requests.length - offset), ports.costs),
      exec.budget,
    );
    if (cap) return offset > 0 ? finishStep(exec, truncated(intent, cap), ports, 0) : finishWithout(exec, intent, cap);
  }
  if (offset > 0 && !intent.inFlight) {
    // A step split across invocations: a cancel or the deadline between its parts keeps what was received.
    if (await ports.cancelRequested?.()) return finishStep(exec, truncated(intent), ports, 0);
    const deadline = exec.budget.deadline;
    if (deadline !== undefined && ports.now() >= deadline) {
      const kept = await finishStep(exec, truncated(intent), ports, 0);
      return kept.exec.status === "done"
        ? kept
        : { ...kept, exec: stopExecution(kept.exec, "deadline", "the deadline passed between parts of a step") };
    }
  }
  if (offset === work.requests.length) {
    // Nothing (left) to call: a step of no requests still advances the strategy.
    return finishStep(
      exec,
      { ...intent, results: { kind: work.kind, responses: intent.received } as WorkResults },
      ports,
      0,
    );
  }
  const count = intent.inFlight?.count ?? chunkSize(work, offset, ports);
  if (count === 0) return { exec, calls: [], providerMs: 0, subrequests: 0, yielded: true };
  intent = { ...intent, inFlight: { offset, count } };
  await ports.journal?.keep(intent);
  const chunk = sliceWork(work, offset, count);
  const subrequests = subrequestsOf(chunk, ports.providers);
  const discarded: CallRecord[] = [];
  const deadline = exec.budget.deadline;
  const called = ports.now();
  let results: WorkResults;
  try {
    results = await callProviders(chunk, ports.providers, {
      ...(ports.requestKey !== undefined
        ? { requestId: `${ports.requestKey}:${exec.steps}:${intent.interruptions}:${offset}` }
        : {}),
      ...(deadline !== undefined ? { deadline } : {}),
      ...(ports.signal ? { signal: ports.signal } : {}),
      billed: (role, attempt) =>
        discarded.push(
          extraRecord(exec.steps, chunk, role, attempt.usage, ports.costs, "discarded", attempt.estimated),
        ),
      // A retry may be billed again: only while its worst case still fits beside everything billed so far.
      mayRetry: () =>
        exceededCap(
          chargeCalls(spentSoFar(exec, intent, ports.costs), discarded),
          workBound(chunk, ports.costs),
          exec.budget,
        ) === null,
    });
  } catch (err) {
    const providerMs = ports.now() - called;
    const failed = [...discarded, ...priceCalls(exec.steps, chunk, undefined, ports.costs, "error", providerMs)];
    const message = err instanceof Error ? err.message : String(err);
    const past = deadline !== undefined && ports.now() >= deadline;
    const cancelled = ports.signal?.aborted === true;
    const reason: StopReason = cancelled ? "cancelled" : past ? "deadline" : "failed";
    const detail = cancelled
      ? `${CANCELLED} (provider calls in flight were aborted)`
      : past
        ? `the deadline passed during a provider call (${message})`
        : `provider error: ${message}`;
    if (offset > 0) {
      // Earlier parts of a split step were paid for: absorb what they received, then stop.
      const kept = await finishStep(exec, truncated(intent), ports, providerMs, subrequests);
      return {
        ...kept,
        exec: stopExecution(charge(kept.exec, failed), reason, detail),
        calls: [...kept.calls, ...failed],
      };
    }
    const calls = [...intent.prior, ...intent.discarded, ...failed];
    return { exec: stopExecution(charge(exec, calls), reason, detail), calls, providerMs, subrequests };
  }
  const providerMs = ports.now() - called;
  const { inFlight: _done, ...rest } = intent;
  const answered = Array.isArray(results.responses) && results.responses.length === count;
  const responses = Array.isArray(results.responses) ? (results.responses as (GenerateResponse | ScoreResponse)[]) : [];
  intent = {
    ...rest,
    received: [...intent.received, ...responses],
    discarded: [...intent.discarded, ...discarded],
    providerMs: intent.providerMs + providerMs,
  };
  // A part answered with the wrong number of responses goes on to validation, which fails the step naming it.
  if (answered && intent.received.length < work.requests.length) {
    await ports.journal?.keep(intent);
    return { exec, calls: [], providerMs, subrequests, yielded: true };
  }
  const entry: StepResults = { ...intent, results: { kind: work.kind, responses: intent.received } as WorkResults };
  await ports.journal?.keep(entry);
  return finishStep(exec, entry, ports, providerMs, subrequests);
}

/** The step cut to the requests already answered (a cap, a cancel, the deadline or a failure stopped the rest). */
function truncated(intent: StepIntent, cap?: keyof Spend): StepResults {
  const { work } = intent;
  const k = intent.received.length;
  const requests = work.requests.slice(0, k);
  const part: CallWork =
    work.kind === "generate"
      ? {
          kind: "generate",
          requests: requests as GenerateRequest[],
          generations: Math.ceil(
            (work.generations * samplesOf(requests as GenerateRequest[])) / Math.max(1, samplesOf(work.requests)),
          ),
        }
      : { kind: "score", requests: requests as ScoreRequest[] };
  const limitedBy = intent.limitedBy ?? cap;
  return {
    ...intent,
    work: part,
    ...(limitedBy ? { limitedBy } : {}),
    results: { kind: work.kind, responses: intent.received } as WorkResults,
  };
}

function samplesOf(requests: readonly GenerateRequest[]): number {
  return requests.reduce((t, r) => t + r.n, 0);
}

/**
 * End the solve without finishing its step: what the step was charged and what it received (paid for, not
 * absorbed) are charged as `discarded`, and the answer is the best from before the step.
 */
function abandon(
  exec: Execution,
  intent: StepIntent,
  costs: CostModel,
  reason: StopReason,
  detail: string,
): StepReport {
  const calls = [...intent.prior, ...intent.discarded, ...receivedRecords(exec.steps, intent, costs, "discarded")];
  return { exec: stopExecution(charge(exec, calls), reason, detail), calls, providerMs: 0, subrequests: 0 };
}

/**
 * End the solve because its host cannot go on (an internal error): whatever the step's journal says was
 * charged, received or in flight (at its worst case) is charged as it is abandoned.
 */
export function abandonStep(
  exec: Execution,
  entry: StepIntent | undefined,
  costs: CostModel,
  detail: string,
): StepReport {
  if (!entry || entry.step !== exec.steps)
    return { exec: stopExecution(exec, "failed", detail), calls: [], providerMs: 0, subrequests: 0 };
  const lost =
    entry.inFlight && !hasResults(entry)
      ? sliceWork(entry.work, entry.inFlight.offset, entry.inFlight.count)
      : undefined;
  const charged = lost
    ? [...boundUsage(lost, costs)].map(([role, usage]) =>
        extraRecord(exec.steps, lost, role, usage, costs, "interrupted", true),
      )
    : [];
  return abandon(exec, { ...entry, prior: [...entry.prior, ...charged] }, costs, "failed", detail);
}

function receivedRecords(
  step: number,
  intent: StepIntent,
  costs: CostModel,
  status: CallRecord["status"],
): CallRecord[] {
  const k = intent.received.length;
  return k > 0
    ? priceCalls(
        step,
        sliceWork(intent.work, 0, k),
        { kind: intent.work.kind, responses: intent.received } as WorkResults,
        costs,
        status,
      )
    : [];
}

/** A cap left no room for a step that received nothing: the solve ends with its charges and the best answer so far. */
function finishWithout(exec: Execution, intent: StepIntent, cap: keyof Spend): StepReport {
  const calls = [...intent.prior, ...intent.discarded];
  return {
    exec: stopExecution(
      charge(exec, calls),
      "budget",
      `the ${cap} cap is spent: not even one more sample or score fits`,
    ),
    calls,
    providerMs: 0,
    subrequests: 0,
  };
}

function charge(exec: Execution, calls: readonly CallRecord[]): Execution {
  return calls.length === 0 ? exec : { ...exec, ledger: chargeCalls(exec.ledger, calls) };
}

/** Absorb the step's results with its charges (interrupted and discarded attempts), then honour a cancel that arrived meanwhile. */
async function finishStep(
  exec: Execution,
  entry: StepResults,
  ports: StepPorts,
  providerMs: number,
  subrequests = 0,
): Promise<StepReport> {
  const applied = applyStep(charge(exec, entry.prior), entry, entry.results, ports.costs, entry.providerMs);
  const charged = charge(applied.exec, entry.discarded);
  let out: StepReport = {
    exec: ports.afterApply ? ports.afterApply(charged) : charged,
    calls: [...entry.prior, ...entry.discarded, ...applied.calls],
    providerMs,
    subrequests,
  };
  if (out.exec.status === "running" && (await ports.cancelRequested?.()))
    out = { ...out, exec: stopExecution(out.exec, "cancelled", CANCELLED) };
  return out;
}

function roles(work: CallWork): (GeneratorRole | "verifier")[] {
  return work.kind === "score" ? ["verifier"] : [...new Set((work.requests as GenerateRequest[]).map((r) => r.role))];
}

/** Run to the end in memory (evaluation sweeps, tests). `now` is the host's clock. */
export async function runToEnd(
  exec: Execution,
  providers: ProviderSet,
  costs: CostModel,
  now: () => number = () => 0,
): Promise<Execution> {
  let current = exec;
  while (current.status === "running") current = (await executeStep(current, { providers, costs, now })).exec;
  return current;
}
