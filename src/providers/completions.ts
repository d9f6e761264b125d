/**
 * OpenAI-compatible text completions (vLLM, SGLang, TGI, most GPU clouds): requests with the same sampling
 * settings go out together as one prompt array with `n`, so a step of beam search is one HTTP request.
 */
import pLimit from "p-limit";
import { renderPrompt, utf8Length } from "../engine/prompts";
import type { CallContext, Completion, GenerateRequest, GenerateResponse } from "../engine/types";
import { CompletionsResponseSchema } from "./formats";
import { ProviderError } from "./http";
import {
  allBilled,
  batchesOf,
  cardOf,
  httpOptionsFor,
  parseResponse,
  postAndRead,
  splitUsage,
  sumUsage,
  type AdapterContext,
  type GeneratorAdapter,
} from "./shared";
import type { ProviderConfig } from "./config";

type Config = Extract<ProviderConfig, { kind: "openai-completions" }>;

/** The step separator for one-step requests, and the caller's stop sequences. */
export function stopField(r: GenerateRequest): { stop?: string[] } {
  const stop = [...(r.oneStep ? ["\n\n"] : []), ...(r.stop ?? [])];
  return stop.length > 0 ? { stop } : {};
}

/** Requests that can share one call: same n, temperature, max_tokens and stop. */
function batchKey(r: GenerateRequest): string {
  return `${r.n}|${r.temperature}|${r.maxTokens}|${r.oneStep}|${JSON.stringify(r.stop ?? [])}`;
}

/**
 * The server seeds a call, not each prompt in it: identical prompts in one call would get identical samples
 * (DVTS's subtrees all start from the same empty prefix). Ask once for their n's together.
 */
function merge(
  requests: readonly GenerateRequest[],
): { req: GenerateRequest; parts: { index: number; n: number }[] }[] {
  const merged: { req: GenerateRequest; parts: { index: number; n: number }[] }[] = [];
  const byPrompt = new Map<string, number>();
  requests.forEach((r, index) => {
    const key = `${r.temperature}|${r.maxTokens}|${r.oneStep}|${JSON.stringify(r.stop ?? [])}|${renderPrompt(r)}`;
    const at = byPrompt.get(key);
    const group = at === undefined ? undefined : merged[at];
    if (group) {
      group.req = { ...group.req, n: group.req.n + r.n };
      group.parts.push({ index, n: r.n });
    } else {
      byPrompt.set(key, merged.length);
      merged.push({ req: r, parts: [{ index, n: r.n }] });
    }
  });
  return merged;
}

export function completionsGenerator(name: string, config: Config, context: AdapterContext): GeneratorAdapter {
  const limit = pLimit(config.concurrency);
  const http = httpOptionsFor(config, context);
  const url = `${config.baseUrl.replace(/\/$/, "")}/v1/completions`;

  const promptTokenBound = (req: GenerateRequest): number => utf8Length(renderPrompt(req)) + 8;

  async function call(
    batch: GenerateRequest[],
    ctx: CallContext | undefined,
    part: number,
  ): Promise<GenerateResponse[]> {
    const first = batch[0] as GenerateRequest;
    const prompts = batch.map((r) => renderPrompt(r));
    const bound = () => ({
      promptTokens: batch.reduce((t, r) => t + promptTokenBound(r), 0),
      completionTokens: batch.length * first.n * first.maxTokens,
    });
    const body = {
      model: config.model,
      prompt: prompts,
      n: first.n,
      temperature: first.temperature,
      max_tokens: first.maxTokens,
      seed: first.seed,
      ...stopField(first),
    };
    const expected = batch.length * first.n;
    const { slots, usage } = await postAndRead(
      url,
      body,
      `provider ${name}`,
      http,
      ctx,
      { part: String(part), replays: config.replaysRequests, bound },
      (raw) => {
        const { choices, usage } = parseResponse(CompletionsResponseSchema, raw, name, "completions");
        if (choices.length !== expected)
          throw new ProviderError(
            `provider ${name}: expected ${expected} choices (${batch.length} prompts × n=${first.n}), got ${choices.length}`,
            false,
          );
        const slots: (Completion | undefined)[] = new Array(expected);
        for (const ch of choices) {
          if (ch.index >= expected || slots[ch.index])
            throw new ProviderError(`provider ${name}: choice index ${ch.index} is out of range or repeated`, false);
          slots[ch.index] = { text: ch.text, finishReason: ch.finish_reason === "length" ? "length" : "stop" };
        }
        return { slots, usage };
      },
    );
    const completions = batch.map((_, i) => slots.slice(i * first.n, (i + 1) * first.n) as Completion[]);
    const usages = splitUsage(
      { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens },
      prompts.map((p) => p.length),
      completions.map((cs) => cs.reduce((t, c) => t + c.text.length, 0)),
    );
    return batch.map((_, i) => ({ completions: completions[i] as Completion[], usage: usages[i]! }));
  }

  return {
    card: cardOf(name, config),
    promptTokenBound,
    // Each batch may be tried 1 + retries times.
    subrequests: (requests) =>
      batchesOf(
        merge(requests).map((m) => m.req),
        batchKey,
        config.maxBatch,
      ).length *
      (config.retries + 1),
    async generate(requests, ctx) {
      const merged = merge(requests);
      const answers: GenerateResponse[] = new Array(merged.length);
      await allBilled(
        batchesOf(
          merged.map((m) => m.req),
          batchKey,
          config.maxBatch,
        ).map((indices, part) =>
          limit(async () => {
            const responses = await call(
              indices.map((i) => (merged[i] as (typeof merged)[number]).req),
              ctx,
              part,
            );
            indices.forEach((i, j) => (answers[i] = responses[j] as GenerateResponse));
            return responses;
          }),
        ),
        ctx,
        (responses) => sumUsage(responses.map((r) => r.usage)),
      );
      const out: GenerateResponse[] = new Array(requests.length);
      merged.forEach((m, k) => {
        const answer = answers[k] as GenerateResponse;
        const usages = splitUsage(
          answer.usage,
          m.parts.map((p) => p.n),
          m.parts.map((p) => p.n),
        );
        let offset = 0;
        m.parts.forEach((part, j) => {
          out[part.index] = {
            completions: answer.completions.slice(offset, offset + part.n),
            usage: usages[j] as GenerateResponse["usage"],
          };
          offset += part.n;
        });
      });
      return out;
    },
  };
}
