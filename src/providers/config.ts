/**
 * Provider configuration: named providers with a kind, an endpoint, a model, a parameter count (for FLOPs),
 * prices, limits and timeouts. API keys are never in the configuration: `apiKeySecret` names the secret
 * (a Worker secret or environment variable) that holds it.
 */
import { z } from "zod";

const card = {
  model: z.string().min(1),
  /** Parameter count, for FLOPs. */
  parameters: z.number().positive(),
  inputPricePerMillion: z.number().min(0).default(0),
  outputPricePerMillion: z.number().min(0).default(0),
  /**
   * The provider honours `Idempotency-Key`: a repeated key gets the first answer again and is billed once.
   * Then a call repeated after a crash costs nothing more; otherwise it is charged at its worst case.
   */
  replaysRequests: z.boolean().default(false),
};

const remote = {
  baseUrl: z.url(),
  apiKeySecret: z.string().min(1).optional(),
  timeoutMs: z.number().int().min(100).max(900_000).default(60_000),
  retries: z.number().int().min(0).max(10).default(3),
  /** Open requests at once; the Workers platform allows 6 connections per invocation. */
  concurrency: z.number().int().min(1).max(6).default(6),
};

export const ProviderConfigSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("openai-completions"),
    ...card,
    ...remote,
    /** Prompts per request (vLLM and most servers take prompt arrays with `n`). */
    maxBatch: z.number().int().min(1).max(1024).default(64),
  }),
  z.object({
    kind: z.literal("openai-chat"),
    ...card,
    ...remote,
    /** The server continues a final assistant message (vLLM's `continue_final_message`): step-wise search works. */
    continueFinalMessage: z.boolean().default(false),
  }),
  z.object({
    kind: z.literal("vllm-prm"),
    ...card,
    ...remote,
    maxBatch: z.number().int().min(1).max(1024).default(64),
  }),
  z.object({ kind: z.literal("llm-judge"), ...card, ...remote }),
]);

export type ProviderConfig = z.output<typeof ProviderConfigSchema>;
export type ProviderConfigInput = z.input<typeof ProviderConfigSchema>;

/**
 * The service's provider set, from the PROVIDERS variable: "sim" (the simulated world in process, the
 * default), or JSON naming a generator, a verifier and optionally a revision model and a larger model that
 * the policy may escalate hard prompts to.
 */
export const ProvidersConfigSchema = z.union([
  z.literal("sim"),
  z
    .object({
      generator: ProviderConfigSchema,
      verifier: ProviderConfigSchema,
      reviser: ProviderConfigSchema.optional(),
      large: ProviderConfigSchema.optional(),
    })
    .strict(),
]);

export type ProvidersConfig = z.output<typeof ProvidersConfigSchema>;

/** Parse PROVIDERS; the error names the offending field. */
export function parseProvidersConfig(
  raw: string | undefined,
): { ok: true; config: ProvidersConfig } | { ok: false; error: string } {
  if (raw === undefined || raw.trim() === "" || raw.trim() === "sim") return { ok: true, config: "sim" };
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return { ok: false, error: 'PROVIDERS is neither "sim" nor valid JSON' };
  }
  const r = ProvidersConfigSchema.safeParse(data);
  if (r.success) return { ok: true, config: r.data };
  const issue = r.error.issues[0];
  return { ok: false, error: `PROVIDERS.${issue?.path.join(".") || "(root)"}: ${issue?.message}` };
}
