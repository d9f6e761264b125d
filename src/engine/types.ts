/**
 * The engine's data contracts. Everything here is plain JSON so that strategy state can be persisted
 * between any two steps (Durable Object storage, evaluation checkpoints) without changing the result.
 */

/**
 * What came before the question in a conversation: instructions (system and developer messages, in order)
 * and earlier turns. Providers render it with the question (`prompts.ts`); answers are read only from what
 * the model writes after it.
 */
export interface Conversation {
  instructions: string[];
  turns: { role: "user" | "assistant"; content: string }[];
}

/** A prompt to solve: the question, and the conversation it was asked in, if any. */
export interface Problem {
  id?: string;
  question: string;
  context?: Conversation;
  /** The caller's stop sequences: every sample ends at the first (the generator is asked to stop there too). */
  stop?: string[];
}

/**
 * Which configured model a generation request is for: the base generator, the revision model, or the larger
 * model a policy may escalate hard prompts to (method.md §8).
 */
export type GeneratorRole = "generator" | "reviser" | "large";

/**
 * One generation request, semantic rather than rendered: provider adapters render it into their own wire
 * format (a completions prompt, or chat messages continued with vLLM's `continue_final_message`).
 */
export interface GenerateRequest {
  role: GeneratorRole;
  question: string;
  context?: Conversation;
  /** The caller's stop sequences, sent to the generator beside the step separator. */
  stop?: string[];
  /** Steps already written; the model continues after them. */
  prefix: string[];
  /** Earlier attempts shown to a revision model (most recent last, at most four). */
  attempts?: string[];
  n: number;
  temperature: number;
  /** Stop at the end of the current step (`"\n\n"`) instead of writing the whole solution. */
  oneStep: boolean;
  maxTokens: number;
  seed: number;
}

export interface Completion {
  text: string;
  /** `length` when max_tokens cut the text. */
  finishReason: "stop" | "length";
}

export interface Usage {
  promptTokens: number;
  completionTokens: number;
}

export interface GenerateResponse {
  completions: Completion[];
  usage: Usage;
  /** The usage is a worst-case bound: the provider reported none. */
  estimated?: boolean;
}

/** A request for one verifier score per step of a (partial) solution. */
export interface ScoreRequest {
  question: string;
  context?: Conversation;
  steps: string[];
}

export interface ScoreResponse {
  /** One score in [0, 1] per step, in order. */
  scores: number[];
  usage: Usage;
  /** The usage is a worst-case bound: the provider reported none. */
  estimated?: boolean;
}

/** A finished (or abandoned) solution considered by a selection rule. */
export interface Candidate {
  steps: string[];
  /** Extracted final answer as written, or null when the solution has none. */
  answer: string | null;
  /** Per-step verifier scores, when scored. */
  stepScores?: number[];
  /** Aggregated verifier score, when scored. */
  score?: number;
  /** Revision chain index and position within it, for revision strategies. */
  chain?: number;
  position?: number;
}

export type StopReason = "complete" | "budget" | "deadline" | "cancelled" | "failed";

export interface SolveOutcome {
  answer: string | null;
  /** The solution text that carries the answer. */
  solution: string | null;
  /** Share of the selection weight behind the answer, in [0, 1]. */
  confidence: number;
  candidates: Candidate[];
}

/** What a strategy asks for next. */
export type Work =
  | { kind: "generate"; requests: GenerateRequest[]; generations: number }
  | { kind: "score"; requests: ScoreRequest[] }
  | { kind: "done"; outcome: SolveOutcome };

export type WorkResults =
  { kind: "generate"; responses: GenerateResponse[] } | { kind: "score"; responses: ScoreResponse[] };

/** An attempt a provider billed whose answer was not used (retried, truncated, malformed, the wrong count). */
export interface BilledAttempt {
  usage: Usage;
  /** The usage is a worst-case bound: the provider reported none that could be read. */
  estimated: boolean;
  detail: string;
}

/** What the executor tells a provider about one call. */
export interface CallContext {
  /**
   * The same for every attempt at this step's call, across a crash and resume too, and unique to the solve:
   * an adapter sends it (with its batch index) so a provider that recognises repeats bills one request once.
   * Absent when the host has no durable identity for the solve (in-process runs).
   */
  requestId?: string;
  /** Epoch milliseconds by which the call must be over: adapters cut timeouts and retries to it. */
  deadline?: number;
  /** Report a billed attempt whose answer was not used, so that the ledger and the caps see it. */
  billed(attempt: BilledAttempt): void;
  /** Whether another attempt still fits the budget at its worst case, given what was billed so far. */
  mayRetry?(): boolean;
  /** Aborted when the solve is cancelled: calls in flight stop (reporting what they may have cost). */
  signal?: AbortSignal;
}
