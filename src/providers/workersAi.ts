/**
 * Workers AI through the Worker's `AI` binding (wrangler.toml `[ai] binding = "AI"`), text generation only.
 * The binding takes one prompt and returns one sample (`{ response, usage? }`, workers-types
 * AiTextGenerationInput/Output), so every call fans out: one run per sample, each with its own seed, within
 * `concurrency`. `raw: true` sends the completions prompt without a chat template, so the model continues a
 * partial solution and step-wise search works. The binding has no stop sequences: a one-step request is cut at
 * the step's end here (the tokens after it were billed and are counted). Usage is read from the response where
 * given; otherwise the call is charged at its worst case, marked estimated. Requests may go through an AI
 * Gateway with `gateway` (the binding's `{ gateway: { id } }` option).
 */
import pLimit from "p-limit";
import { z } from "zod";
import { renderPrompt, utf8Length } from "../engine/prompts";
import { STEP_SEPARATOR } from "../engine/solutionSteps";
import type { CallContext, GenerateRequest, GenerateResponse, Usage } from "../engine/types";
import { cardFields } from "./config";
import { gatherUnits, mergeIdentical, splitMerged } from "./completions";
import { unitsOf, type Unit } from "./fanout";
import { ProviderError } from "./http";
import { defineKind } from "./registry";
import { SERVER_PRESETS } from "./servers";
import { allBilled, cardOf, type AdapterContext, type GeneratorAdapter } from "./shared";

export const workersAiSchema = z.object({
  kind: z.literal("workers-ai"),
  ...cardFields,
  /** The binding's name in wrangler.toml. */
  binding: z.string().min(1).default("AI"),
  /** An AI Gateway to route the binding's requests through (its id). */
  gateway: z.string().min(1).optional(),
  timeoutMs: z.number().int().min(100).max(900_000).default(60_000),
  retries: z.number().int().min(0).max(10).default(3),
  concurrency: z.number().int().min(1).max(6).default(6),
});
type Config = z.output<typeof workersAiSchema>;

/** The part of the binding this adapter uses. */
export interface AiBinding {
  run(model: string, inputs: Record<string, unknown>, options?: Record<string, unknown>): Promise<unknown>;
}

const OutputSchema = z.object({
  response: z.string(),
  usage: z.object({ prompt_tokens: z.number().int().min(0), completion_tokens: z.number().int().min(0) }).optional(),
});

/** Caps of the binding: one sample and one prompt per run, samples seeded apart by the adapter. */
const CAPS = {
  ...SERVER_PRESETS.ollama,
  supportsN: false,
  promptArrays: false,
  maxBatch: 1,
  reportsUsage: false,
  continuation: "prefill" as const,
};

export function workersAiGenerator(name: string, config: Config, context: AdapterContext): GeneratorAdapter {
  const limit = pLimit(config.concurrency);
  const label = `provider ${name} (workers-ai, model ${config.model})`;
  const binding = context.bindings?.[config.binding] as AiBinding | undefined;
  if (!binding || typeof binding.run !== "function")
    throw new Error(`binding: the Worker has no AI binding named ${config.binding} (wrangler.toml [ai] binding)`);
  const perPrompt = (req: GenerateRequest): number => utf8Length(renderPrompt(req)) + 8;

  async function runOnce(unit: Unit, ctx: CallContext | undefined): Promise<GenerateResponse> {
    const req = unit.req;
    const bound = (): Usage => ({ promptTokens: perPrompt(req), completionTokens: req.maxTokens });
    let last: unknown;
    for (let attempt = 0; attempt <= config.retries; attempt++) {
      if (attempt > 0 && ctx?.mayRetry && !ctx.mayRetry()) break;
      const left = ctx?.deadline === undefined ? Infinity : ctx.deadline - Date.now();
      const timeout = Math.min(config.timeoutMs, left);
      if (timeout <= 0) break;
      let timer: ReturnType<typeof setTimeout> | undefined;
      let raw: unknown;
      try {
        raw = await Promise.race([
          binding!.run(
            config.model,
            {
              prompt: renderPrompt(req),
              raw: true,
              max_tokens: req.maxTokens,
              temperature: req.temperature,
              seed: req.seed,
            },
            config.gateway ? { gateway: { id: config.gateway } } : undefined,
          ),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no response within ${timeout} ms`)), timeout);
          }),
        ]);
      } catch (err) {
        last = err;
        // A run that timed out may still have been served: charge it at its worst case.
        if (err instanceof Error && err.message.startsWith("no response within"))
          ctx?.billed({ usage: bound(), estimated: true, detail: `${label}: ${err.message}` });
        continue;
      } finally {
        if (timer !== undefined) clearTimeout(timer);
      }
      const parsed = OutputSchema.safeParse(raw);
      if (!parsed.success) {
        const error = new ProviderError(`${label}: malformed response: ${parsed.error.issues[0]?.message}`, false);
        ctx?.billed({ usage: bound(), estimated: true, detail: error.message });
        throw error;
      }
      const { response, usage } = parsed.data;
      const cut = req.oneStep ? response.indexOf(STEP_SEPARATOR) : -1;
      const text = cut >= 0 ? response.slice(0, cut) : response;
      const length = usage ? usage.completion_tokens >= req.maxTokens : false;
      return {
        completions: [{ text, finishReason: cut < 0 && length ? "length" : "stop" }],
        usage: usage ? { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens } : bound(),
        ...(usage ? {} : { estimated: true }),
      };
    }
    const message = last instanceof Error ? last.message : String(last ?? "the solve's deadline passed");
    throw new ProviderError(`${label}: ${message} (gave up after ${config.retries + 1} attempts)`, false);
  }

  const plan = (requests: readonly GenerateRequest[]) => {
    const merged = mergeIdentical(requests, renderPrompt);
    return {
      merged,
      units: unitsOf(
        merged.map((m) => m.req),
        CAPS,
      ),
    };
  };

  return {
    card: cardOf(name, config),
    label,
    continues: true,
    promptTokenBound: (req) => perPrompt(req) * req.n,
    subrequests: (requests) => plan(requests).units.length * (config.retries + 1),
    async generate(requests, ctx) {
      const { merged, units } = plan(requests);
      const answers = await allBilled(
        units.map((u) => limit(() => runOnce(u, ctx))),
        ctx,
        (r) => r.usage,
      );
      return splitMerged(merged, gatherUnits(units, answers, merged.length), requests.length);
    },
  };
}

export const workersAiKind = defineKind({
  kind: "workers-ai",
  schema: workersAiSchema,
  generator: (name, config, context) => workersAiGenerator(name, config, context),
});
