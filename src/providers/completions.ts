/**
 * OpenAI-compatible text completions (vLLM, SGLang, TGI, Ollama, llama.cpp, hosted APIs). Requests with the
 * same sampling settings go out together as one prompt array with `n` where the server takes both, so a step
 * of beam search is one HTTP request on vLLM; elsewhere the call fans out (see `fanout.ts`) within the
 * provider's concurrency. The engine still sees one logical generate.
 */
import pLimit from "p-limit";
import { z } from "zod";
import { renderPrompt, utf8Length } from "../engine/prompts";
import type { CallContext, Completion, GenerateRequest, GenerateResponse, Usage } from "../engine/types";
import { cardFields, remoteFields, type RemoteConfig } from "./config";
import { requestsPerLogical, unitsOf, type Unit } from "./fanout";
import { CompletionsResponseSchema } from "./formats";
import { ProviderError } from "./http";
import { defineKind } from "./registry";
import { capabilitiesOf, joinUrl, type ServerCapabilities } from "./servers";
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

export const completionsSchema = z.object({ kind: z.literal("openai-completions"), ...cardFields, ...remoteFields });
type Config = z.output<typeof completionsSchema>;

/** The step separator for one-step requests, and the caller's stop sequences. */
export function stopField(r: GenerateRequest): { stop?: string[] } {
  const stop = [...(r.oneStep ? ["\n\n"] : []), ...(r.stop ?? [])];
  return stop.length > 0 ? { stop } : {};
}

/**
 * The server seeds a call, not each prompt in it: identical prompts in one call would get identical samples
 * (DVTS's subtrees all start from the same empty prefix). Ask once for their n's together.
 */
export function mergeIdentical(
  requests: readonly GenerateRequest[],
  render: (r: GenerateRequest) => string,
): { req: GenerateRequest; parts: { index: number; n: number }[] }[] {
  const merged: { req: GenerateRequest; parts: { index: number; n: number }[] }[] = [];
  const byPrompt = new Map<string, number>();
  requests.forEach((r, index) => {
    const key = `${r.role}|${r.temperature}|${r.maxTokens}|${r.oneStep}|${JSON.stringify(r.stop ?? [])}|${render(r)}`;
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

/** Responses for the merged requests, split back to the requests that were merged. */
export function splitMerged(
  merged: ReturnType<typeof mergeIdentical>,
  answers: readonly GenerateResponse[],
  count: number,
): GenerateResponse[] {
  const out: GenerateResponse[] = new Array(count);
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
        usage: usages[j] as Usage,
        ...(answer.estimated ? { estimated: true } : {}),
      };
      offset += part.n;
    });
  });
  return out;
}

/** Units' answers gathered per logical request, samples in fan-out order. */
export function gatherUnits(
  units: readonly Unit[],
  answers: readonly GenerateResponse[],
  count: number,
): GenerateResponse[] {
  const out: GenerateResponse[] = Array.from({ length: count }, () => ({
    completions: [],
    usage: { promptTokens: 0, completionTokens: 0 },
  }));
  units.forEach((u, i) => {
    const a = answers[i] as GenerateResponse;
    const o = out[u.index]!;
    o.completions.push(...a.completions);
    o.usage = sumUsage([o.usage, a.usage]);
    if (a.estimated) o.estimated = true;
  });
  return out;
}

export function completionsGenerator(
  name: string,
  config: Config | RemoteConfig,
  context: AdapterContext,
  caps: ServerCapabilities = capabilitiesOf(config),
): GeneratorAdapter {
  const limit = pLimit(config.concurrency);
  const http = httpOptionsFor(config, context);
  const url = joinUrl(config.baseUrl, caps.paths.completions);
  const label = `provider ${name} (openai-completions on ${config.server})`;

  const perPrompt = (req: GenerateRequest): number => utf8Length(renderPrompt(req)) + 8;
  // Fanned out, each request bills the prompt again.
  const promptTokenBound = (req: GenerateRequest): number => perPrompt(req) * requestsPerLogical(caps, req.n);

  const batchKey = (u: Unit): string =>
    `${u.req.n}|${u.req.temperature}|${u.req.maxTokens}|${u.req.oneStep}|${JSON.stringify(u.req.stop ?? [])}|${u.position}`;

  const plan = (requests: readonly GenerateRequest[]) => {
    const merged = mergeIdentical(requests, renderPrompt);
    const units = unitsOf(
      merged.map((m) => m.req),
      caps,
    );
    return { merged, units, batches: batchesOf(units, batchKey, caps.maxBatch) };
  };

  async function call(batch: Unit[], ctx: CallContext | undefined, part: number): Promise<GenerateResponse[]> {
    const first = batch[0]!.req;
    const prompts = batch.map((u) => renderPrompt(u.req));
    const bound = (): Usage => ({
      promptTokens: batch.reduce((t, u) => t + perPrompt(u.req), 0),
      completionTokens: batch.length * first.n * first.maxTokens,
    });
    const body = {
      model: config.model,
      // Ollama binds `prompt` to a string and llama.cpp reads one prompt: no array where arrays are not taken.
      prompt: caps.promptArrays ? prompts : prompts[0],
      ...(caps.supportsN ? { n: first.n } : {}),
      temperature: first.temperature,
      max_tokens: first.maxTokens,
      seed: first.seed,
      ...stopField(first),
    };
    const expected = batch.length * first.n;
    const { slots, usage } = await postAndRead(
      url,
      body,
      label,
      http,
      ctx,
      { part: String(part), replays: config.replaysRequests, bound },
      (raw) => {
        const { choices, usage } = parseResponse(CompletionsResponseSchema, raw, name, "completions");
        if (choices.length !== expected)
          throw new ProviderError(
            `${label}: expected ${expected} choices (${batch.length} prompts × n=${first.n}), got ${choices.length}` +
              (choices.length === batch.length && first.n > 1
                ? ": the server ignores n; set server or supportsN: false"
                : ""),
            false,
          );
        const slots: (Completion | undefined)[] = new Array(expected);
        for (const ch of choices) {
          if (ch.index >= expected || slots[ch.index])
            throw new ProviderError(`${label}: choice index ${ch.index} is out of range or repeated`, false);
          slots[ch.index] = { text: ch.text, finishReason: ch.finish_reason === "length" ? "length" : "stop" };
        }
        return { slots, usage };
      },
    );
    const completions = batch.map((_, i) => slots.slice(i * first.n, (i + 1) * first.n) as Completion[]);
    // No usage in the response: the batch is charged at its worst case, marked estimated.
    const total: Usage = usage
      ? { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens }
      : bound();
    const usages = splitUsage(
      total,
      prompts.map((p) => p.length),
      completions.map((cs) => cs.reduce((t, c) => t + c.text.length, 0)),
    );
    return batch.map((_, i) => ({
      completions: completions[i] as Completion[],
      usage: usages[i]!,
      ...(usage ? {} : { estimated: true }),
    }));
  }

  return {
    card: cardOf(name, config),
    label,
    // A completions prompt ends where the partial solution does: every server continues it.
    continues: true,
    promptTokenBound,
    // Each request may be tried 1 + retries times.
    subrequests: (requests) => plan(requests).batches.length * (config.retries + 1),
    async generate(requests, ctx) {
      const { merged, units, batches } = plan(requests);
      const answers: GenerateResponse[] = new Array(units.length);
      await allBilled(
        batches.map((indices, part) =>
          limit(async () => {
            const responses = await call(
              indices.map((i) => units[i]!),
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
      return splitMerged(merged, gatherUnits(units, answers, merged.length), requests.length);
    },
  };
}

export const completionsKind = defineKind({
  kind: "openai-completions",
  schema: completionsSchema,
  generator: (name, config, context) => completionsGenerator(name, config, context),
});
