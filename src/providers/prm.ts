/**
 * A process reward model behind vLLM's pooling API (e.g. Qwen2.5-Math-PRM): each step is followed by the
 * step separator, and the model returns [p_neg, p_pos] at each; the step's score is p_pos. Only vLLM has the
 * pooling route (vllm-project/vllm vllm/entrypoints/openai/api_server.py, `/pooling`); another server is refused
 * at startup unless `paths.pooling` names a route that serves it.
 *
 * The response is checked, never trusted: one result per input, one pair per step, each pair two numbers in
 * [0, 1] summing to about 1. Anything else is a provider error naming the model, charged what was reported.
 *
 * Over-long inputs (`maxModelLen`): an input whose size bound (UTF-8 bytes, at least its token count) exceeds
 * the PRM's context is not sent, since the server would refuse or truncate it. Rule `score-zero` (default):
 * its steps score 0, so that candidate ranks below every one that was scored; `fail`: the call fails with a
 * provider error naming the limit.
 */
import pLimit from "p-limit";
import { z } from "zod";
import { utf8Length } from "../engine/prompts";
import type { CallContext, ScoreRequest, ScoreResponse } from "../engine/types";
import { cardFields, remoteFields } from "./config";
import { PoolingResponseSchema, PRM_STEP_TOKEN, renderPrmInput } from "./formats";
import { ProviderError } from "./http";
import { defineKind } from "./registry";
import { capabilitiesOf, joinUrl } from "./servers";
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

export const prmSchema = z.object({
  kind: z.literal("vllm-prm"),
  ...cardFields,
  ...remoteFields,
  /** Appended to every step: Qwen2.5-Math-PRM's `<extra_0>` (default), Math-Shepherd's `ки`. */
  stepSeparator: z.string().min(1).default(PRM_STEP_TOKEN),
  /** The PRM's context length in tokens (vLLM's max_model_len); longer inputs follow `overLength`. */
  maxModelLen: z.number().int().min(16).optional(),
  overLength: z.enum(["score-zero", "fail"]).default("score-zero"),
});
type Config = z.output<typeof prmSchema>;

/** How far a [p_neg, p_pos] pair may be from summing to 1 (float32 softmax outputs). */
const PAIR_TOLERANCE = 0.01;

export function poolingVerifier(name: string, config: Config, context: AdapterContext): VerifierAdapter {
  const limit = pLimit(config.concurrency);
  const http = httpOptionsFor(config, context);
  const caps = capabilitiesOf(config);
  const url = joinUrl(config.baseUrl, caps.paths.pooling);
  const label = `provider ${name} (vllm-prm, model ${config.model})`;
  const render = (r: ScoreRequest) => renderPrmInput(r.question, r.steps, r.context, config.stepSeparator);

  const scoreTokenBound = (req: ScoreRequest): number => utf8Length(render(req)) + 8;
  const tooLong = (req: ScoreRequest): boolean =>
    config.maxModelLen !== undefined && scoreTokenBound(req) > config.maxModelLen;

  async function call(batch: ScoreRequest[], ctx: CallContext | undefined, part: number): Promise<ScoreResponse[]> {
    const inputs = batch.map(render);
    const bound = () => ({ promptTokens: batch.reduce((t, r) => t + scoreTokenBound(r), 0), completionTokens: 0 });
    return postAndRead(
      url,
      { model: config.model, input: inputs },
      label,
      http,
      ctx,
      { part: String(part), replays: config.replaysRequests, bound },
      (raw) => {
        const { data, usage } = parseResponse(PoolingResponseSchema, raw, name, "pooling");
        if (data.length !== batch.length)
          throw new ProviderError(`${label}: expected ${batch.length} results, got ${data.length}`, false);
        const byIndex = [...data].sort((a, b) => a.index - b.index);
        if (byIndex.some((d, i) => d.index !== i))
          throw new ProviderError(`${label}: result indices are not 0..${batch.length - 1}`, false);
        const usages = splitUsage(
          { promptTokens: usage.prompt_tokens, completionTokens: 0 },
          inputs.map((t) => t.length),
          inputs.map(() => 0),
        );
        return batch.map((req, i) => {
          const pairs = byIndex[i]?.data ?? [];
          if (pairs.length !== req.steps.length)
            throw new ProviderError(
              `${label}: expected ${req.steps.length} step scores for input ${i}, got ${pairs.length} (is the step separator ${JSON.stringify(config.stepSeparator)} the model's?)`,
              false,
            );
          const scores = pairs.map((pair, j) => {
            const [neg, pos] = pair;
            const ok =
              pair.length === 2 &&
              neg !== undefined &&
              pos !== undefined &&
              neg >= 0 &&
              pos >= 0 &&
              pos <= 1 &&
              Math.abs(neg + pos - 1) <= PAIR_TOLERANCE;
            if (!ok)
              throw new ProviderError(
                `${label}: step ${j} of input ${i} is not a [p_neg, p_pos] pair summing to 1: ${JSON.stringify(pair)}`,
                false,
              );
            return pos!;
          });
          return { scores, usage: usages[i]! };
        });
      },
    );
  }

  const plan = (requests: readonly ScoreRequest[]) => {
    const sent = requests.map((_, i) => i).filter((i) => !tooLong(requests[i]!));
    return { sent, batches: batchesOf(sent, () => "", caps.maxBatch) };
  };

  return {
    card: cardOf(name, config),
    scoreTokenBound: (req) => (tooLong(req) ? 0 : scoreTokenBound(req)),
    subrequests: (requests) => plan(requests).batches.length * (config.retries + 1),
    async score(requests, ctx) {
      const over = requests.findIndex(tooLong);
      if (over >= 0 && config.overLength === "fail")
        throw new ProviderError(
          `${label}: input ${over} needs up to ${scoreTokenBound(requests[over]!)} tokens, more than maxModelLen ${config.maxModelLen}`,
          false,
        );
      const out: ScoreResponse[] = requests.map((r) => ({
        scores: r.steps.map(() => 0),
        usage: { promptTokens: 0, completionTokens: 0 },
      }));
      const { sent, batches } = plan(requests);
      await allBilled(
        batches.map((positions, part) =>
          limit(async () => {
            const indices = positions.map((p) => sent[p]!);
            const responses = await call(
              indices.map((i) => requests[i]!),
              ctx,
              part,
            );
            indices.forEach((i, j) => (out[i] = responses[j]!));
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

export const vllmPrmKind = defineKind({
  kind: "vllm-prm",
  schema: prmSchema,
  verifier: (name, config, context) => poolingVerifier(name, config, context),
  refuse: (config) =>
    capabilitiesOf(config).pooling || config.paths?.pooling
      ? undefined
      : `server: ${config.server} has no PRM (pooling) endpoint; use server "vllm" or set paths.pooling`,
});
