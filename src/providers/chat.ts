/**
 * OpenAI-compatible chat completions. A partial solution is a final assistant message, continued with vLLM's
 * `continue_final_message` (`flag`) or as a prefill the server continues by itself (`prefill`, llama.cpp); a
 * server with neither cannot do step-wise search: the adapter says so (`continues: false`) and the service
 * refuses such strategies before a solve starts. Where the server lacks `n` the call fans out.
 */
import pLimit from "p-limit";
import { z } from "zod";
import { renderChatMessages, utf8Length } from "../engine/prompts";
import type { CallContext, GenerateRequest, GenerateResponse, Usage } from "../engine/types";
import { cardFields, remoteFields } from "./config";
import { gatherUnits, mergeIdentical, splitMerged, stopField } from "./completions";
import { requestsPerLogical, unitsOf, type Unit } from "./fanout";
import { ChatResponseSchema } from "./formats";
import { ProviderError } from "./http";
import { defineKind } from "./registry";
import { capabilitiesOf, joinUrl, SERVER_PRESETS, type Continuation } from "./servers";
import {
  allBilled,
  cardOf,
  httpOptionsFor,
  parseResponse,
  postAndRead,
  type AdapterContext,
  type GeneratorAdapter,
} from "./shared";

export const chatSchema = z.object({
  kind: z.literal("openai-chat"),
  ...cardFields,
  ...remoteFields,
  /**
   * The server continues a final assistant message: true sends vLLM's `continue_final_message` (or relies on
   * the server's prefill, llama.cpp); false refuses step-wise search. Default: the server's.
   */
  continueFinalMessage: z.boolean().optional(),
});
type Config = z.output<typeof chatSchema>;

function continuationOf(config: Config): Continuation {
  const preset = SERVER_PRESETS[config.server].continuation;
  if (config.continueFinalMessage === undefined) return preset;
  if (!config.continueFinalMessage) return "none";
  return preset === "prefill" ? "prefill" : "flag";
}

export function chatGenerator(name: string, config: Config, context: AdapterContext): GeneratorAdapter {
  const limit = pLimit(config.concurrency);
  const http = httpOptionsFor(config, context);
  const caps = { ...capabilitiesOf(config, continuationOf(config)), promptArrays: false, maxBatch: 1 };
  const url = joinUrl(config.baseUrl, caps.paths.chat);
  const label = `provider ${name} (openai-chat on ${config.server})`;
  const render = (r: GenerateRequest) => JSON.stringify(renderChatMessages(r));

  const perPrompt = (req: GenerateRequest): number =>
    renderChatMessages(req).reduce((t, m) => t + utf8Length(m.content) + 8, 8);
  const promptTokenBound = (req: GenerateRequest): number => perPrompt(req) * requestsPerLogical(caps, req.n);

  async function call(unit: Unit, ctx: CallContext | undefined, part: number): Promise<GenerateResponse> {
    const req = unit.req;
    const messages = renderChatMessages(req);
    const continuing = messages[messages.length - 1]?.role === "assistant";
    if (continuing && caps.continuation === "none") {
      throw new ProviderError(
        `${label} cannot continue a partial solution: step-wise strategies (beam search, lookahead, DVTS) need a completions provider or a chat server that continues a final assistant message (continueFinalMessage)`,
        false,
      );
    }
    const body = {
      model: config.model,
      messages,
      ...(caps.supportsN ? { n: req.n } : {}),
      temperature: req.temperature,
      max_tokens: req.maxTokens,
      seed: req.seed,
      ...stopField(req),
      ...(continuing && caps.continuation === "flag"
        ? { continue_final_message: true, add_generation_prompt: false }
        : {}),
    };
    const bound = (): Usage => ({ promptTokens: perPrompt(req), completionTokens: req.n * req.maxTokens });
    const { choices, usage } = await postAndRead(
      url,
      body,
      label,
      http,
      ctx,
      { part: String(part), replays: config.replaysRequests, bound },
      (raw) => {
        const parsed = parseResponse(ChatResponseSchema, raw, name, "chat");
        if (parsed.choices.length !== req.n)
          throw new ProviderError(
            `${label}: expected ${req.n} choices, got ${parsed.choices.length}` +
              (parsed.choices.length === 1 && req.n > 1
                ? ": the server ignores n; set server or supportsN: false"
                : ""),
            false,
          );
        return parsed;
      },
    );
    const ordered = [...choices].sort((a, b) => a.index - b.index);
    return {
      completions: ordered.map((ch) => ({
        text: ch.message.content ?? "",
        finishReason: ch.finish_reason === "length" ? "length" : "stop",
      })),
      usage: usage ? { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens } : bound(),
      ...(usage ? {} : { estimated: true }),
    };
  }

  return {
    card: cardOf(name, config),
    label,
    continues: caps.continuation !== "none",
    promptTokenBound,
    subrequests: (requests) =>
      unitsOf(
        mergeIdentical(requests, render).map((m) => m.req),
        caps,
      ).length *
      (config.retries + 1),
    async generate(requests, ctx) {
      const merged = mergeIdentical(requests, render);
      const units = unitsOf(
        merged.map((m) => m.req),
        caps,
      );
      const answers = await allBilled(
        units.map((u, part) => limit(() => call(u, ctx, part))),
        ctx,
        (r) => r.usage,
      );
      return splitMerged(merged, gatherUnits(units, answers, merged.length), requests.length);
    },
  };
}

export const chatKind = defineKind({
  kind: "openai-chat",
  schema: chatSchema,
  generator: (name, config, context) => chatGenerator(name, config, context),
});
