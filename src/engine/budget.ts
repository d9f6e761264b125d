/**
 * Budgets, the spend ledger, and worst-case bounds. A budget is a hard cap: the executor only issues a
 * step whose worst-case spend still fits in what is left (method.md §2).
 */
import { addPriced, noSpend, SPEND_UNITS, type Priced, type Spend, type SpendUnit } from "./meter";
import type { GenerateRequest, GeneratorRole, ScoreRequest, Usage, Work } from "./types";

export type { Spend };

/** Work that calls providers (not `done`). */
export type CallWork = Extract<Work, { kind: "generate" | "score" }>;

/** A cap in any unit of the meter (src/engine/meter.ts), and a wall-clock deadline. */
export type Budget = Partial<Spend> & {
  /** Wall-clock deadline, epoch milliseconds. */
  deadline?: number;
};

export interface Ledger extends Spend {
  /** Completions returned by generators (whole solutions or single steps). */
  samples: number;
  /** Provider calls made (one per role per step). */
  calls: number;
  generatorPromptTokens: number;
  generatorCompletionTokens: number;
  verifierTokens: number;
  /** 2·P·D over generator and reviser tokens (the paper's arXiv v1 convention counts only these). */
  generatorFlops: number;
  /** 2·P·D over verifier tokens (the ICLR convention prices the verifier like a second generator pass). */
  verifierFlops: number;
}

export function emptyLedger(): Ledger {
  return {
    ...noSpend(),
    samples: 0,
    calls: 0,
    generatorPromptTokens: 0,
    generatorCompletionTokens: 0,
    verifierTokens: 0,
    generatorFlops: 0,
    verifierFlops: 0,
  };
}

export interface ModelCard {
  name: string;
  /** Parameter count, for FLOPs. */
  parameters: number;
  /** US dollars per million input (prompt) tokens. */
  inputPricePerMillion: number;
  /** US dollars per million output (completion) tokens. */
  outputPricePerMillion: number;
  /**
   * The provider bills a repeated request id once (it replays its answer), so a call repeated after a crash
   * costs nothing more; otherwise an interrupted call is charged at its worst case.
   */
  replaysRequests?: boolean;
}

/**
 * What the executor needs to know about the providers to price and bound a step: their model cards,
 * and upper bounds on the prompt tokens a request will be billed (each provider knows its tokenizer;
 * UTF-8 bytes plus template overhead bound any byte-level BPE).
 */
export interface CostModel {
  /** The larger model's card is absent when none is configured: a step asking for it is refused. */
  cards: Record<Exclude<GeneratorRole, "large"> | "verifier", ModelCard> & { large?: ModelCard };
  promptTokenBound(req: GenerateRequest): number;
  scoreTokenBound(req: ScoreRequest): number;
}

/** The card of the model serving `role`; an error naming the gap when the larger model is not configured. */
export function cardOf(costs: CostModel, role: GeneratorRole | "verifier"): ModelCard {
  const card = costs.cards[role];
  if (!card) throw new Error(NO_LARGE_MODEL);
  return card;
}

export const NO_LARGE_MODEL = 'no larger model is configured (the providers have no "large" model)';

/** What `usage` costs on `card`: dollars at its prices, FLOPs as 2·P·D. */
export function priceUsage(card: ModelCard, usage: Usage): Priced {
  return {
    money: (usage.promptTokens * card.inputPricePerMillion + usage.completionTokens * card.outputPricePerMillion) / 1e6,
    flops: 2 * card.parameters * (usage.promptTokens + usage.completionTokens),
  };
}

/** Worst-case spend of a generation batch: every prompt billed in full, every completion at max_tokens. */
export function generationBound(requests: readonly GenerateRequest[], generations: number, costs: CostModel): Spend {
  const s: Spend = { ...noSpend(), generations };
  for (const req of requests) {
    const usage = { promptTokens: costs.promptTokenBound(req), completionTokens: req.n * req.maxTokens };
    const p = priceUsage(cardOf(costs, req.role), usage);
    s.tokens += usage.promptTokens + usage.completionTokens;
    addPriced(s, p);
  }
  return s;
}

export function scoringBound(requests: readonly ScoreRequest[], costs: CostModel): Spend {
  const s: Spend = noSpend();
  for (const req of requests) {
    const usage = { promptTokens: costs.scoreTokenBound(req), completionTokens: 0 };
    const p = priceUsage(costs.cards.verifier, usage);
    s.tokens += usage.promptTokens;
    addPriced(s, p);
  }
  return s;
}

export function workBound(work: CallWork, costs: CostModel): Spend {
  return work.kind === "generate"
    ? generationBound(work.requests, work.generations, costs)
    : scoringBound(work.requests, costs);
}

/** The first cap that `extra` more spend would break, or null when it fits. */
export function exceededCap(ledger: Spend, extra: Spend, budget: Budget): SpendUnit | null {
  for (const k of SPEND_UNITS) {
    const cap = budget[k];
    if (cap !== undefined && ledger[k] + extra[k] > cap * (1 + 1e-12)) return k;
  }
  return null;
}

/** Fewest completion tokens a shrunk request may ask for: below this a step or solution is cut to nothing useful. */
export const MIN_COMPLETION_TOKENS = 16;

/** The largest integer in [lo, hi] for which `fits` holds, assuming it is monotone; lo − 1 when none. */
function largest(lo: number, hi: number, fits: (x: number) => boolean): number {
  let best = lo - 1;
  while (lo <= hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (fits(mid)) {
      best = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return best;
}

/**
 * Shrink a step whose worst case does not fit in what the budget has left, so that a tight budget still
 * buys an answer: keep the requests that fit in order, then the largest `n` of the next one, else one sample
 * with `max_tokens` cut to what is left. Generations are charged in proportion to the samples kept. Null when
 * not even one sample (or one score) fits.
 */
export function fitWork(
  work: CallWork,
  ledger: Spend,
  budget: Budget,
  costs: CostModel,
): { work: CallWork; bound: Spend } | null {
  if (work.kind === "score") {
    const keep = largest(
      1,
      work.requests.length,
      (k) => exceededCap(ledger, scoringBound(work.requests.slice(0, k), costs), budget) === null,
    );
    if (keep < 1) return null;
    const fitted: CallWork = { kind: "score", requests: work.requests.slice(0, keep) };
    return { work: fitted, bound: workBound(fitted, costs) };
  }
  const planned = work.requests.reduce((t, r) => t + r.n, 0);
  const withGenerations = (requests: GenerateRequest[]): CallWork => {
    const samples = requests.reduce((t, r) => t + r.n, 0);
    return {
      kind: "generate",
      requests,
      generations: planned > 0 ? Math.ceil((work.generations * samples) / planned) : 0,
    };
  };
  const fits = (requests: GenerateRequest[]): boolean =>
    exceededCap(ledger, workBound(withGenerations(requests), costs), budget) === null;
  const kept: GenerateRequest[] = [];
  for (const req of work.requests) {
    if (fits([...kept, req])) {
      kept.push(req);
      continue;
    }
    const n = largest(1, req.n - 1, (k) => fits([...kept, { ...req, n: k }]));
    if (n >= 1) kept.push({ ...req, n });
    else {
      const floor = Math.min(MIN_COMPLETION_TOKENS, req.maxTokens);
      const maxTokens = largest(floor, req.maxTokens - 1, (t) => fits([...kept, { ...req, n: 1, maxTokens: t }]));
      if (maxTokens >= floor) kept.push({ ...req, n: 1, maxTokens });
    }
    break;
  }
  if (kept.length === 0) return null;
  const fitted = withGenerations(kept);
  return { work: fitted, bound: workBound(fitted, costs) };
}

/** One provider called in one executor step (one per role), priced as the ledger prices it (`Priced`). */
export interface CallRecord extends Priced {
  step: number;
  role: GeneratorRole | "verifier";
  /** The model card's name. */
  provider: string;
  /**
   * The work's kind, which a layer above may prefix with the phase it ran in (`probe-generate`: the verifier
   * probe an `auto` solve runs before choosing its arm, src/policy/probeStep.ts).
   */
  purpose: CallWork["kind"] | `${string}-${CallWork["kind"]}`;
  requests: number;
  samples: number;
  promptTokens: number;
  completionTokens: number;
  latencyMs: number;
  /**
   * `invalid`: the provider answered, but not what was asked (its reported usage is still charged);
   * `discarded`: attempts billed and thrown away (retried, truncated, malformed); `interrupted`: a call the
   * host lost in a crash, charged at its worst case; `error`: the call failed.
   */
  status: "ok" | "invalid" | "discarded" | "interrupted" | "error";
  /** The tokens are a worst-case bound, not what a provider reported. */
  estimated?: boolean;
}

/** Add what the calls cost to the ledger: the ledger is the sum of the call records, by construction. */
export function chargeCalls(ledger: Ledger, calls: readonly CallRecord[]): Ledger {
  const out = { ...ledger };
  for (const c of calls) {
    const tokens = c.promptTokens + c.completionTokens;
    out.tokens += tokens;
    addPriced(out, c);
    out.samples += c.samples;
    out.calls += 1;
    if (c.role === "verifier") {
      out.verifierTokens += tokens;
      out.verifierFlops += c.flops;
    } else {
      out.generatorPromptTokens += c.promptTokens;
      out.generatorCompletionTokens += c.completionTokens;
      out.generatorFlops += c.flops;
    }
  }
  return out;
}
