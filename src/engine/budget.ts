/**
 * Budgets, the spend ledger, and worst-case bounds. A budget is a hard cap: the executor only issues a
 * step whose worst-case spend still fits in what is left (method.md §2).
 */
import type { GenerateRequest, GeneratorRole, ScoreRequest, Usage } from "./types";

export interface Budget {
  /** Generation budget in the paper's units (N for best-of-N and beam search, N(k+1) for lookahead, s·p for revisions). */
  generations?: number;
  /** Total billed tokens: generator and verifier, prompt and completion. */
  tokens?: number;
  /** US dollars. */
  money?: number;
  /** Inference FLOPs (2·P·D for every model called). */
  flops?: number;
  /** Wall-clock deadline, epoch milliseconds. */
  deadline?: number;
}

export interface Spend {
  generations: number;
  tokens: number;
  money: number;
  flops: number;
}

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
    generations: 0,
    tokens: 0,
    money: 0,
    flops: 0,
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
}

/**
 * What the executor needs to know about the providers to price and bound a step: their model cards,
 * and upper bounds on the prompt tokens a request will be billed (each provider knows its tokenizer;
 * UTF-8 bytes plus template overhead bound any byte-level BPE).
 */
export interface CostModel {
  cards: Record<GeneratorRole | "verifier", ModelCard>;
  promptTokenBound(req: GenerateRequest): number;
  scoreTokenBound(req: ScoreRequest): number;
}

function priced(card: ModelCard, usage: Usage): { money: number; flops: number } {
  return {
    money: (usage.promptTokens * card.inputPricePerMillion + usage.completionTokens * card.outputPricePerMillion) / 1e6,
    flops: 2 * card.parameters * (usage.promptTokens + usage.completionTokens),
  };
}

/** Worst-case spend of a generation batch: every prompt billed in full, every completion at max_tokens. */
export function generationBound(requests: readonly GenerateRequest[], generations: number, costs: CostModel): Spend {
  const s: Spend = { generations, tokens: 0, money: 0, flops: 0 };
  for (const req of requests) {
    const usage = { promptTokens: costs.promptTokenBound(req), completionTokens: req.n * req.maxTokens };
    const p = priced(costs.cards[req.role], usage);
    s.tokens += usage.promptTokens + usage.completionTokens;
    s.money += p.money;
    s.flops += p.flops;
  }
  return s;
}

export function scoringBound(requests: readonly ScoreRequest[], costs: CostModel): Spend {
  const s: Spend = { generations: 0, tokens: 0, money: 0, flops: 0 };
  for (const req of requests) {
    const usage = { promptTokens: costs.scoreTokenBound(req), completionTokens: 0 };
    const p = priced(costs.cards.verifier, usage);
    s.tokens += usage.promptTokens;
    s.money += p.money;
    s.flops += p.flops;
  }
  return s;
}

/** The first cap that `extra` more spend would break, or null when it fits. */
export function exceededCap(ledger: Spend, extra: Spend, budget: Budget): keyof Spend | null {
  const keys: (keyof Spend)[] = ["generations", "tokens", "money", "flops"];
  for (const k of keys) {
    const cap = budget[k];
    if (cap !== undefined && ledger[k] + extra[k] > cap * (1 + 1e-12)) return k;
  }
  return null;
}

export function recordGeneration(ledger: Ledger, role: GeneratorRole, usage: Usage, samples: number, costs: CostModel): Ledger {
  const p = priced(costs.cards[role], usage);
  return {
    ...ledger,
    tokens: ledger.tokens + usage.promptTokens + usage.completionTokens,
    money: ledger.money + p.money,
    flops: ledger.flops + p.flops,
    samples: ledger.samples + samples,
    generatorPromptTokens: ledger.generatorPromptTokens + usage.promptTokens,
    generatorCompletionTokens: ledger.generatorCompletionTokens + usage.completionTokens,
    generatorFlops: ledger.generatorFlops + p.flops,
  };
}

export function recordScoring(ledger: Ledger, usage: Usage, costs: CostModel): Ledger {
  const p = priced(costs.cards.verifier, usage);
  const tokens = usage.promptTokens + usage.completionTokens;
  return {
    ...ledger,
    tokens: ledger.tokens + tokens,
    money: ledger.money + p.money,
    flops: ledger.flops + p.flops,
    verifierTokens: ledger.verifierTokens + tokens,
    verifierFlops: ledger.verifierFlops + p.flops,
  };
}
