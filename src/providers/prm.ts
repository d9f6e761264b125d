/**
 * A process reward model behind vLLM's pooling API (e.g. Qwen2.5-Math-PRM): each step is followed by the
 * step token, and the model returns [p_neg, p_pos] at each; the step's score is p_pos.
 */
import pLimit from "p-limit";
import { utf8Length } from "../engine/prompts";
import type { CallContext, ScoreRequest, ScoreResponse } from "../engine/types";
import type { ProviderConfig } from "./config";
import { PoolingResponseSchema, renderPrmInput } from "./formats";
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
  type VerifierAdapter,
} from "./shared";

type Config = Extract<ProviderConfig, { kind: "vllm-prm" }>;

export function poolingVerifier(name: string, config: Config, context: AdapterContext): VerifierAdapter {
  const limit = pLimit(config.concurrency);
  const http = httpOptionsFor(config, context);
  const url = `${config.baseUrl.replace(/\/$/, "")}/pooling`;

  const scoreTokenBound = (req: ScoreRequest): number =>
    utf8Length(renderPrmInput(req.question, req.steps, req.context)) + 8;

  async function call(batch: ScoreRequest[], ctx: CallContext | undefined, part: number): Promise<ScoreResponse[]> {
    const inputs = batch.map((r) => renderPrmInput(r.question, r.steps, r.context));
    const bound = () => ({ promptTokens: batch.reduce((t, r) => t + scoreTokenBound(r), 0), completionTokens: 0 });
    return postAndRead(
      url,
      { model: config.model, input: inputs },
      `provider ${name}`,
      http,
      ctx,
      { part: String(part), replays: config.replaysRequests, bound },
      (raw) => {
        const { data, usage } = parseResponse(PoolingResponseSchema, raw, name, "pooling");
        if (data.length !== batch.length)
          throw new ProviderError(`provider ${name}: expected ${batch.length} results, got ${data.length}`, false);
        const byIndex = [...data].sort((a, b) => a.index - b.index);
        const usages = splitUsage(
          { promptTokens: usage.prompt_tokens, completionTokens: 0 },
          inputs.map((t) => t.length),
          inputs.map(() => 0),
        );
        return batch.map((req, i) => {
          const pairs = byIndex[i]?.data ?? [];
          if (pairs.length !== req.steps.length)
            throw new ProviderError(
              `provider ${name}: expected ${req.steps.length} step scores for input ${i}, got ${pairs.length}`,
              false,
            );
          const scores = pairs.map((pair, j) => {
            const p = pair.length === 2 ? pair[1] : pair.length === 1 ? pair[0] : undefined;
            if (p === undefined || !(p >= 0 && p <= 1))
              throw new ProviderError(`provider ${name}: step ${j} of input ${i} is not a probability pair`, false);
            return p;
          });
          return { scores, usage: usages[i]! };
        });
      },
    );
  }

  return {
    card: cardOf(name, config),
    scoreTokenBound,
    subrequests: (requests) => Math.ceil(requests.length / config.maxBatch) * (config.retries + 1),
    async score(requests, ctx) {
      const out: ScoreResponse[] = new Array(requests.length);
      await allBilled(
        batchesOf(requests, () => "", config.maxBatch).map((indices, part) =>
          limit(async () => {
            const responses = await call(
              indices.map((i) => requests[i] as ScoreRequest),
              ctx,
              part,
            );
            indices.forEach((i, j) => (out[i] = responses[j] as ScoreResponse));
            return responses;
          }),
        ),
        ctx,
        (responses) => sumUsage(responses.map((r) => r.usage)),
      );
      return out;
    },
  };
}
