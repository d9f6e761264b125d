/**
 * OpenAI-compatible chat completions. A partial solution is continued as a final assistant message with
 * vLLM's `continue_final_message`; a server without it cannot do step-wise search, and says so.
 */
import pLimit from "p-limit";
import { renderChatMessages, utf8Length } from "../engine/prompts";
import type { CallContext, GenerateRequest, GenerateResponse } from "../engine/types";
import type { ProviderConfig } from "./config";
import { stopField } from "./completions";
import { ChatResponseSchema } from "./formats";
import { ProviderError } from "./http";
import {
  allBilled,
  cardOf,
  httpOptionsFor,
  parseResponse,
  postAndRead,
  type AdapterContext,
  type GeneratorAdapter,
} from "./shared";

type Config = Extract<ProviderConfig, { kind: "openai-chat" }>;

export function chatGenerator(name: string, config: Config, context: AdapterContext): GeneratorAdapter {
  const limit = pLimit(config.concurrency);
  const http = httpOptionsFor(config, context);
  const url = `${config.baseUrl.replace(/\/$/, "")}/v1/chat/completions`;

  const promptTokenBound = (req: GenerateRequest): number =>
    renderChatMessages(req).reduce((t, m) => t + utf8Length(m.content) + 8, 8);

  async function call(req: GenerateRequest, ctx: CallContext | undefined, part: number): Promise<GenerateResponse> {
    const messages = renderChatMessages(req);
    const continuing = messages[messages.length - 1]?.role === "assistant";
    if (continuing && !config.continueFinalMessage) {
      throw new ProviderError(
        `provider ${name} (openai-chat) cannot continue a partial solution: step-wise strategies (beam search, lookahead, DVTS) need a completions provider or a vLLM chat server with continueFinalMessage enabled`,
        false,
      );
    }
    const body = {
      model: config.model,
      messages,
      n: req.n,
      temperature: req.temperature,
      max_tokens: req.maxTokens,
      seed: req.seed,
      ...stopField(req),
      ...(continuing ? { continue_final_message: true, add_generation_prompt: false } : {}),
    };
    const bound = () => ({ promptTokens: promptTokenBound(req), completionTokens: req.n * req.maxTokens });
    const { choices, usage } = await postAndRead(
      url,
      body,
      `provider ${name}`,
      http,
      ctx,
      { part: String(part), replays: config.replaysRequests, bound },
      (raw) => {
        const parsed = parseResponse(ChatResponseSchema, raw, name, "chat");
        if (parsed.choices.length !== req.n)
          throw new ProviderError(`provider ${name}: expected ${req.n} choices, got ${parsed.choices.length}`, false);
        return parsed;
      },
    );
    const ordered = [...choices].sort((a, b) => a.index - b.index);
    return {
      completions: ordered.map((ch) => ({
        text: ch.message.content ?? "",
        finishReason: ch.finish_reason === "length" ? "length" : "stop",
      })),
      usage: { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens },
    };
  }

  return {
    card: cardOf(name, config),
    promptTokenBound,
    subrequests: (requests) => requests.length * (config.retries + 1),
    generate: (requests, ctx) =>
      allBilled(
        requests.map((req, part) => limit(() => call(req, ctx, part))),
        ctx,
        (r) => r.usage,
      ),
  };
}
