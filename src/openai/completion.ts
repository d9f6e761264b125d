/**
 * Chat completions and their stream chunks from a solve, in OpenAI's shapes.
 *
 * Usage: `total_tokens` is every token the solve was billed; `prompt_tokens` the generator's prompt tokens
 * (the problem, read once per sample or step); `completion_tokens` the rest (the generator's samples and
 * the verifier's scoring), all of it search, so `reasoning_tokens` equals it: the returned content is one
 * of the searched samples, billed once.
 */
import type { SolveView } from "../solve/schemas";
import type { Choice, SpendDetail } from "../solve/choices";
import type { Usage } from "./schemas";

export function usageOf(spend: SpendDetail): Usage {
  const completion = spend.tokens - spend.generatorPromptTokens;
  return {
    prompt_tokens: spend.generatorPromptTokens,
    completion_tokens: completion,
    total_tokens: spend.tokens,
    completion_tokens_details: { reasoning_tokens: completion },
  };
}

/** Stopped by a cap or the deadline is OpenAI's "length"; anything else with an answer is "stop". */
export function finishReason(view: SolveView): "stop" | "length" {
  return view.stopReason === "budget" || view.stopReason === "deadline" ? "length" : "stop";
}

export function completionId(solveId: string): string {
  return `chatcmpl-${solveId}`;
}

export function ttcResult(view: SolveView) {
  return {
    solve_id: view.id,
    strategy: view.strategy,
    answer: view.answer,
    confidence: view.confidence,
    ...(view.stopReason ? { stop_reason: view.stopReason } : {}),
    spend: view.spend,
  };
}

export function chatCompletion(model: string, view: SolveView, choices: Choice[], usage: Usage) {
  return {
    id: completionId(view.id),
    object: "chat.completion" as const,
    created: Math.floor(view.createdAt / 1000),
    model,
    choices: choices.map((c, index) => ({
      index,
      message: { role: "assistant" as const, content: c.content, refusal: null },
      finish_reason: finishReason(view),
      logprobs: null,
    })),
    usage,
    ttc: ttcResult(view),
  };
}

export type ChunkChoice = {
  index: number;
  delta: { role?: "assistant"; content?: string; reasoning_content?: string };
  finish_reason: "stop" | "length" | null;
};

export function chunk(solveId: string, created: number, model: string, choices: ChunkChoice[], usage?: Usage | null) {
  return {
    id: completionId(solveId),
    object: "chat.completion.chunk" as const,
    created,
    model,
    choices,
    ...(usage !== undefined ? { usage } : {}),
  };
}

/** One line of progress for a step event, as reasoning text. */
export function progressLine(data: {
  steps?: number;
  spend?: { samples?: number; tokens?: number; generations?: number };
}): string {
  const s = data.spend ?? {};
  return `step ${data.steps ?? "?"}: ${s.samples ?? 0} samples, ${s.generations ?? 0} generations, ${s.tokens ?? 0} tokens so far\n`;
}
