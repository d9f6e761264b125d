/**
 * OpenAI-compatible text completions (vLLM, SGLang, TGI, most GPU clouds): requests with the same sampling
 * settings go out together as one prompt array with `n`, so a step of beam search is one HTTP request.
 */
import pLimit from "p-limit";
import { renderPrompt, utf8Length } from "../engine/prompts";
import type { Completion, GenerateRequest, GenerateResponse } from "../engine/types";
import { CompletionsResponseSchema } from "./formats";
import { postJson, ProviderError } from "./http";
import { batchesOf, httpOptionsFor, parseResponse, splitUsage, type AdapterContext, type GeneratorAdapter } from "./shared";
import type { ProviderConfig } from "./config";

type Config = Extract<ProviderConfig, { kind: "openai-completions" }>;

/** Requests that can share one call: same n, temperature, max_tokens and stop. */
function batchKey(r: GenerateRequest): string {
  return `${r.n}|${r.temperature}|${r.maxTokens}|${r.oneStep}`;
}

export function completionsGenerator(name: string, config: Config, context: AdapterContext): GeneratorAdapter {
  const limit = pLimit(config.concurrency);
  const http = httpOptionsFor(config, context);
  const url = `${config.baseUrl.replace(/\/$/, "")}/v1/completions`;

  async function call(batch: GenerateRequest[]): Promise<GenerateResponse[]> {
    const first = batch[0] as GenerateRequest;
    const prompts = batch.map((r) => renderPrompt(r));
    const body = {
      model: config.model,
      prompt: prompts,
      n: first.n,
      temperature: first.temperature,
      max_tokens: first.maxTokens,
      seed: first.seed,
      ...(first.oneStep ? { stop: ["\n\n"] } : {}),
    };
    const { choices, usage } = parseResponse(CompletionsResponseSchema, await postJson(url, body, `provider ${name}`, http), name, "completions");
    const expected = batch.length * first.n;
    if (choices.length !== expected) throw new ProviderError(`provider ${name}: expected ${expected} choices (${batch.length} prompts × n=${first.n}), got ${choices.length}`, false);
    const slots: (Completion | undefined)[] = new Array(expected);
    for (const ch of choices) {
      if (ch.index >= expected || slots[ch.index]) throw new ProviderError(`provider ${name}: choice index ${ch.index} is out of range or repeated`, false);
      slots[ch.index] = { text: ch.text, finishReason: ch.finish_reason === "length" ? "length" : "stop" };
    }
    const completions = batch.map((_, i) => slots.slice(i * first.n, (i + 1) * first.n) as Completion[]);
    const usages = splitUsage(
      { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens ?? 0 },
      prompts.map((p) => p.length),
      completions.map((cs) => cs.reduce((t, c) => t + c.text.length, 0)),
    );
    return batch.map((_, i) => ({ completions: completions[i] as Completion[], usage: usages[i]! }));
  }

  return {
    card: { name, parameters: config.parameters, inputPricePerMillion: config.inputPricePerMillion, outputPricePerMillion: config.outputPricePerMillion },
    promptTokenBound: (req) => utf8Length(renderPrompt(req)) + 8,
    async generate(requests) {
      const out: GenerateResponse[] = new Array(requests.length);
      await Promise.all(
        batchesOf(requests, batchKey, config.maxBatch).map((indices) =>
          limit(async () => {
            const responses = await call(indices.map((i) => requests[i] as GenerateRequest));
            indices.forEach((i, j) => (out[i] = responses[j] as GenerateResponse));
          }),
        ),
      );
      return out;
    },
  };
}
