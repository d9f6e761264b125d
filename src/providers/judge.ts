/**
 * An LLM as a step verifier, for any chat provider that returns logprobs: for each prefix of a solution it
 * asks whether the last step is correct and reads P(Yes) / (P(Yes) + P(No)) from the top logprobs.
 */
import pLimit from "p-limit";
import { z } from "zod";
import { utf8Length } from "../engine/prompts";
import type { CallContext, Conversation, ScoreResponse } from "../engine/types";
import { cardFields, remoteFields } from "./config";
import { defineKind } from "./registry";
import { capabilitiesOf, joinUrl } from "./servers";
import { ChatResponseSchema, JUDGE_SYSTEM, renderJudgeUser } from "./formats";
import { ProviderError } from "./http";
import {
  allBilled,
  cardOf,
  httpOptionsFor,
  parseResponse,
  postAndRead,
  sumUsage,
  type AdapterContext,
  type VerifierAdapter,
} from "./shared";

export const judgeSchema = z.object({ kind: z.literal("llm-judge"), ...cardFields, ...remoteFields });
type Config = z.output<typeof judgeSchema>;

export function judgeVerifier(name: string, config: Config, context: AdapterContext): VerifierAdapter {
  const limit = pLimit(config.concurrency);
  const http = httpOptionsFor(config, context);
  const url = joinUrl(config.baseUrl, capabilitiesOf(config).paths.chat);

  const judgeBound = (question: string, steps: string[], context?: Conversation): number =>
    utf8Length(renderJudgeUser(question, steps, context) + JUDGE_SYSTEM) + 24;

  async function judge(
    question: string,
    steps: string[],
    ctx: CallContext | undefined,
    part: string,
    context?: Conversation,
  ): Promise<{ p: number; promptTokens: number; completionTokens: number }> {
    const body = {
      model: config.model,
      messages: [
        { role: "system", content: JUDGE_SYSTEM },
        { role: "user", content: renderJudgeUser(question, steps, context) },
      ],
      max_tokens: 1,
      temperature: 0,
      logprobs: true,
      top_logprobs: 5,
    };
    const bound = () => ({ promptTokens: judgeBound(question, steps, context), completionTokens: 1 });
    return postAndRead(
      url,
      body,
      `provider ${name}`,
      http,
      ctx,
      { part, replays: config.replaysRequests, bound },
      (raw) => {
        const response = parseResponse(ChatResponseSchema, raw, name, "chat");
        const top = response.choices[0]?.logprobs?.content?.[0]?.top_logprobs;
        if (!top)
          throw new ProviderError(
            `provider ${name}: the response has no logprobs (the judge needs logprobs and top_logprobs)`,
            false,
          );
        const prob = (word: string): number =>
          top.filter((t) => t.token.trim().toLowerCase() === word).reduce((s, t) => s + Math.exp(t.logprob), 0);
        const yes = prob("yes");
        const no = prob("no");
        if (yes + no === 0)
          throw new ProviderError(`provider ${name}: neither "Yes" nor "No" is among the top logprobs`, false);
        const usage = response.usage
          ? { promptTokens: response.usage.prompt_tokens, completionTokens: response.usage.completion_tokens }
          : bound();
        return { p: yes / (yes + no), ...usage };
      },
    );
  }

  return {
    card: cardOf(name, config),
    scoreTokenBound: (req) =>
      req.steps.reduce((t, _, j) => t + judgeBound(req.question, req.steps.slice(0, j + 1), req.context), 0),
    // One chat call per prefix of every solution: the verifier that most needs its steps split.
    subrequests: (requests) => requests.reduce((t, r) => t + r.steps.length, 0) * (config.retries + 1),
    score: (requests, ctx) =>
      allBilled(
        requests.map(async (req, i): Promise<ScoreResponse> => {
          const verdicts = await allBilled(
            req.steps.map((_, j) =>
              limit(() => judge(req.question, req.steps.slice(0, j + 1), ctx, `${i}.${j}`, req.context)),
            ),
            ctx,
            (v) => ({ promptTokens: v.promptTokens, completionTokens: v.completionTokens }),
          );
          return { scores: verdicts.map((v) => v.p), usage: sumUsage(verdicts) };
        }),
        ctx,
        (r) => r.usage,
      ),
  };
}

export const judgeKind = defineKind({
  kind: "llm-judge",
  schema: judgeSchema,
  verifier: (name, config, context) => judgeVerifier(name, config, context),
});
