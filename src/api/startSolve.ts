/**
 * Starting a solve for a caller, shared by `/v1/solves` and the chat endpoint: the key's default budget,
 * the refusals that need no Durable Object, the reservation of the budget from the key's daily caps, and the
 * SolveSession's start. A start that fails releases its reservation, so nothing is left half-way.
 */
import type { Principal } from "../auth/keyStore";
import type { SolveSession, RpcResult } from "../durable/SolveSession";
import type { StartInput } from "../solve/input";
import { refuseBudget } from "../engine/executor";
import { generationCost, type StrategySpec } from "../engine/strategies";
import type { CostModel } from "../engine/budget";
import type { Conversation } from "../engine/types";
import type { ResponseEcho } from "../solve/input";
import { decideAuto, servablePolicy, usesLargeModel, type AutoDecision } from "../policy/auto";
import type { CostUnit } from "../engine/meter";
import type { PolicyDocument } from "../policy/document";
import { imputedProbe, planProbe, probeSpec, type ProbePlan } from "../policy/probeStep";
import { activePolicyFor } from "../policyVersions/active";
import { providersFromEnv, refuseStrategy } from "../wiring/providers";
import { todaysDefaults } from "../auth/solveDefaults";
import { quotaRefused } from "../quota/refusal";
import { keyQuota } from "../quota/stub";
import { apiBudgetField, toEngineBudget, withKeyDefaults } from "./budget";
import { ApiError } from "../errors/apiError";
import type { ApiBudget, SolveView } from "./schemas";

export const SOLVE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface SolveRequest {
  prompt: string;
  /** A strategy, or `auto`: the service policy chooses one for the prompt within the budget. */
  strategy: StrategySpec | { strategy: "auto" };
  budget: ApiBudget;
  seed?: number | undefined;
  webhook?: { url: string } | undefined;
  /** OpenAI-compatible requests: the conversation the prompt was asked in, and the caller's user and metadata. */
  context?: Conversation | undefined;
  stop?: string[] | undefined;
  user?: string | undefined;
  metadata?: Record<string, string> | undefined;
  /** A Responses API request: what its response object echoes. */
  response?: ResponseEcho | undefined;
}

/** The solve's object; a malformed id is a 404 like an unknown one. */
export function sessionOf(env: Env, id: string): DurableObjectStub<SolveSession> {
  if (!SOLVE_ID.test(id)) throw new ApiError(404, "not_found", `no solve with id "${id}"`);
  return env.SOLVE_SESSION.get(env.SOLVE_SESSION.idFromName(id));
}

export function unwrap(r: RpcResult<SolveView>): SolveView {
  if (r.ok) return r.value;
  if (r.code === "not_found") throw new ApiError(404, "not_found", r.error);
  if (r.code === "conflict") throw new ApiError(409, "conflict", r.error);
  throw new ApiError(400, "invalid_request", r.field ? `${apiBudgetField(r.field)}: ${r.error}` : r.error);
}

/**
 * The tokens a money or FLOPs cap can buy at the least (every token at the dearest price, on the largest
 * model the policy may call), so an `auto` choice made within it fits the other caps too. `except` is the
 * policy's own unit, which bounds the choice directly.
 */
function tokensWithin(budget: ApiBudget, costs: CostModel, policy: PolicyDocument, except?: CostUnit): number {
  const { large, ...always } = costs.cards;
  const cards = [...Object.values(always), ...(large && usesLargeModel(policy) ? [large] : [])];
  const dearest = Math.max(...cards.map((c) => Math.max(c.inputPricePerMillion, c.outputPricePerMillion))) / 1e6;
  const largest = Math.max(...cards.map((c) => c.parameters));
  let tokens = Infinity;
  if (budget.money !== undefined && dearest > 0 && except !== "money")
    tokens = Math.min(tokens, budget.money / dearest);
  if (budget.flops !== undefined && largest > 0 && except !== "flops")
    tokens = Math.min(tokens, budget.flops / (2 * largest));
  return tokens;
}

type Cap = [number, AutoDecision["capFrom"]];
const lowest = (caps: Cap[]): Cap => caps.reduce((a, b) => (b[0] < a[0] ? b : a));

/**
 * The caps an auto choice is made within: `cap` in the policy's unit and where it came from, and for a policy
 * in dollars or FLOPs the token cap besides. Without a cap in the policy's unit the choice is made at the
 * policy's default (where more compute stops paying), or the key's per-solve default if lower; the other caps
 * bound it too.
 */
function autoCaps(
  req: SolveRequest,
  budget: ApiBudget & { tokens: number; money: number },
  costs: CostModel,
  policy: PolicyDocument,
): { cap: Cap; tokenCap?: number } {
  if (policy.costUnit === "tokens") {
    return {
      cap: lowest([
        [req.budget.tokens ?? Infinity, "request"],
        [req.budget.tokens === undefined ? policy.defaultBudget : Infinity, "policy default"],
        [req.budget.tokens === undefined ? budget.tokens : Infinity, "key default"],
        [tokensWithin(req.budget, costs, policy), "request"],
      ]),
    };
  }
  const asked = req.budget[policy.costUnit];
  const cap = lowest([
    [asked ?? Infinity, "request"],
    [asked === undefined ? policy.defaultBudget : Infinity, "policy default"],
    [policy.costUnit === "money" && asked === undefined ? budget.money : Infinity, "key default"],
  ]);
  return { cap, tokenCap: Math.min(budget.tokens, tokensWithin(req.budget, costs, policy, policy.costUnit)) };
}

/**
 * The strategy a request runs: its own, or for `auto` the service policy's choice for this prompt within the
 * request's caps (see `autoCaps`), with the record of why. `explore` is false for a dry run, which shows the
 * policy's own choice. A policy that probes first is not decided here: the solve runs the probe, then chooses
 * (`probe`), unless the cap cannot afford the probe and an arm after it, when the text alone decides
 * (estimator `free`).
 */
export function resolveStrategy(
  env: Env,
  principal: Principal,
  req: SolveRequest,
  costs: CostModel,
  explore: boolean,
  active: PolicyDocument,
): { spec: StrategySpec; policy?: AutoDecision; probe?: ProbePlan } {
  if (req.strategy.strategy !== "auto") return { spec: req.strategy };
  // Providers without a larger model: the policy's escalation arms are not offered.
  const shipped = servablePolicy(active, costs.cards.large !== undefined);
  const budget = withKeyDefaults(req.budget, principal.limits);
  const share = Number(env.AUTO_EXPLORATION);
  const draw = {
    share: explore && Number.isFinite(share) ? Math.min(1, Math.max(0, share)) : 0,
    draw: crypto.getRandomValues(new Uint32Array(1))[0]! / 2 ** 32,
  };
  const {
    cap: [cap, from],
    tokenCap,
  } = autoCaps(req, budget, costs, shipped);
  const maxGenerations = req.budget.generations;
  // A policy that probes first decides inside the solve, after its probe; a cap too small for it: the text alone.
  const probe = shipped.probe ? planProbe(shipped, req.prompt, cap, from, maxGenerations, draw, costs) : undefined;
  if (probe?.ok) return { spec: probeSpec(shipped), probe: probe.plan };
  const decided = {
    ...decideAuto(shipped, req.prompt, cap, maxGenerations, draw, probe && imputedProbe(shipped), tokenCap),
    ...(probe ? { probeSkipped: probe.reason } : {}),
  };
  if (maxGenerations !== undefined && generationCost(decided.strategy) > maxGenerations) {
    throw new ApiError(
      400,
      "invalid_request",
      `budget.generations: the policy has no configuration for this prompt within ${maxGenerations} generations`,
    );
  }
  return { spec: decided.strategy, policy: { ...decided, capFrom: from } };
}

/**
 * The start input for a request: validated and priced, but nothing stored yet. `explore` is false for a dry
 * run. An auto request is decided with the tenant's active policy version if it has one, else the global one
 * (D1's pointer, else the shipped one).
 */
export async function prepareSolve(
  env: Env,
  principal: Principal,
  req: SolveRequest,
  now = Date.now(),
  explore = true,
): Promise<StartInput> {
  // A request that names no budget gets the key's per-solve defaults, clipped to what today's caps leave.
  const today = await todaysDefaults(env, principal, req.budget, now);
  const caller: Principal = { ...principal, limits: today.limits };
  const budget = withKeyDefaults(req.budget, caller.limits);
  const wired = providersFromEnv(env.PROVIDERS, env as unknown as Record<string, unknown>);
  if (!wired.ok) throw new Error(`PROVIDERS: ${wired.error}`);
  // An auto request is decided with the tenant's own active version, else the global one (D1's pointer, else the
  // configured shipped one): another tenant's feedback never changes it (docs/policy-isolation.md).
  const active = req.strategy.strategy === "auto" ? (await activePolicyFor(env, principal.tenantId)).policy : undefined;
  const { spec, policy, probe } = active
    ? resolveStrategy(env, caller, req, wired.wired.costs, explore, active)
    : { spec: req.strategy as StrategySpec, policy: undefined, probe: undefined };
  if (budget.tokens > principal.limits.tokensPerDay) {
    throw new ApiError(
      400,
      "invalid_request",
      `budget.tokens: ${budget.tokens} is more than this key may spend in a day (${principal.limits.tokensPerDay})`,
    );
  }
  if (budget.money > principal.limits.moneyPerDay) {
    throw new ApiError(
      400,
      "invalid_request",
      `budget.money: $${budget.money} is more than this key may spend in a day ($${principal.limits.moneyPerDay})`,
    );
  }
  // A step-wise strategy on a generator that cannot continue a partial solution fails on its second step: refuse it now.
  const unable = refuseStrategy(wired.wired, spec);
  if (unable) throw new ApiError(400, "invalid_request", `strategy: ${unable}`);
  const engineBudget = toEngineBudget(budget, now);
  // Refused here, before a Durable Object is made: a budget that cannot run this strategy at all.
  const problem = {
    question: req.prompt,
    ...(req.context ? { context: req.context } : {}),
    ...(req.stop ? { stop: req.stop } : {}),
  };
  const refused = refuseBudget(problem, spec, engineBudget, wired.wired.costs);
  if (refused) {
    // A default clipped by the day's cap is too small: the cap refuses, not the request.
    const unit = refused.field === "tokens" || refused.field === "money" ? refused.field : undefined;
    const clip = unit && today.clipped[unit];
    if (unit && clip) {
      const fmt = (x: number) => (unit === "money" ? `$${x.toFixed(4)}` : String(x));
      throw quotaRefused({
        ok: false,
        limit: `${unit} per day`,
        message: `daily ${unit} cap: the key's default budget.${unit} (${fmt(clip.from)}) clipped to the ${fmt(clip.to)} left today is too small for this solve (${refused.message})`,
        retryAfterSeconds: today.retryAfterSeconds,
      });
    }
    throw new ApiError(400, "invalid_request", `${apiBudgetField(refused.field)}: ${refused.message}`);
  }
  return {
    id: crypto.randomUUID(),
    tenantId: principal.tenantId,
    keyId: principal.keyId,
    prompt: req.prompt,
    ...(req.context ? { context: req.context } : {}),
    ...(req.stop ? { stop: req.stop } : {}),
    ...(req.user !== undefined ? { user: req.user } : {}),
    ...(req.metadata ? { metadata: req.metadata } : {}),
    ...(req.response ? { response: req.response } : {}),
    spec,
    ...(policy ? { policy } : {}),
    ...(probe ? { probe } : {}),
    budget: engineBudget,
    seed: req.seed ?? crypto.getRandomValues(new Uint32Array(1))[0]!,
    ...(req.webhook ? { webhook: { url: req.webhook.url } } : {}),
  };
}

/** Reserve the budget and start the object; on any refusal the reservation is released. */
export async function launchSolve(env: Env, principal: Principal, input: StartInput): Promise<SolveView> {
  const quota = keyQuota(env, principal.keyId);
  const reserved = await quota.reserve(
    input.id,
    { tokens: input.budget.tokens ?? 0, money: input.budget.money ?? 0 },
    principal.limits,
  );
  if (!reserved.ok) throw quotaRefused(reserved);
  let started: RpcResult<SolveView>;
  try {
    started = await sessionOf(env, input.id).start(input);
  } catch (err) {
    await quota.release(input.id);
    throw err;
  }
  if (!started.ok) await quota.release(input.id);
  return unwrap(started);
}

/** Wait for a solve to end (sync requests): the object wakes waiters; an evicted one is asked again. */
export async function waitForSolve(env: Env, id: string, deadlineMs: number | undefined): Promise<SolveView> {
  const stub = sessionOf(env, id);
  const until = Date.now() + (deadlineMs ?? 60_000) + 5_000;
  for (;;) {
    const view = unwrap(await stub.waitForDone(Math.max(100, Math.min(10_000, until - Date.now()))));
    if (view.status === "done") return view;
    if (Date.now() > until)
      throw new ApiError(504, "timeout", `solve ${id} is still running; poll GET /v1/solves/${id}`);
  }
}
