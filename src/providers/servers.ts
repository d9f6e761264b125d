/**
 * Server presets: what each inference server people run does with an OpenAI-style request, so that one adapter
 * can speak to all of them. A preset sets capability defaults; every capability can be overridden in the
 * provider's configuration. Where a server lacks `n` or prompt arrays the adapters fan out into parallel
 * requests (one sample, one prompt each, each with its own seed).
 *
 * Sources, read for each rule (cited so that a change upstream can be checked against them):
 * - vLLM: vllm-project/vllm vllm/entrypoints/openai/protocol.py (CompletionRequest: prompt arrays, n, seed;
 *   ChatCompletionRequest.continue_final_message; ErrorResponse) and vllm/entrypoints/openai/api_server.py
 *   (/v1/completions, /v1/chat/completions, /pooling).
 * - SGLang: sgl-project/sglang python/sglang/srt/entrypoints/openai/protocol.py and serving_completions.py:
 *   prompt arrays and n work, but the request's one `seed` seeds every one of its n samples; no pooling route.
 * - TGI: huggingface/text-generation-inference router/src/lib.rs (CompletionRequest has no `n`: it is ignored)
 *   and router/src/server.rs (completions: "Number of prompts exceeds the maximum allowed batch size of {}",
 *   422; launcher/src/main.rs: --max-client-batch-size defaults to 4).
 * - Ollama: ollama/ollama openai/openai.go (CompletionRequest.Prompt is a string, no `n`; NewError shapes) and
 *   middleware/openai.go (CompletionsMiddleware: a body that does not bind is a 400).
 * - llama.cpp: ggml-org/llama.cpp tools/server/utils.hpp (oaicompat params: "Only one completion choice is
 *   allowed" for n != 1; a final assistant message is a prefill that the model continues).
 */
import { z } from "zod";

export const SERVERS = ["vllm", "sglang", "tgi", "ollama", "llamacpp", "openai"] as const;
export type ServerName = (typeof SERVERS)[number];

/** How a chat server continues a partial solution given as a final assistant message. */
export type Continuation = "flag" | "prefill" | "none";

export interface ServerCapabilities {
  /** The server returns n choices for `n` > 1 (else the adapter sends n requests of one sample). */
  supportsN: boolean;
  /** The server takes a prompt array in one completions request. */
  promptArrays: boolean;
  /** Prompts per request when arrays are taken. */
  maxBatch: number;
  /** The n samples of one request are seeded apart (else a request asks for one sample with its own seed). */
  distinctSeeds: boolean;
  /** The response carries `usage` (else the call is charged at its worst case, marked estimated). */
  reportsUsage: boolean;
  /** `flag`: vLLM's `continue_final_message`; `prefill`: a final assistant message is continued as is. */
  continuation: Continuation;
  /** The server has vLLM's pooling API for a process reward model. */
  pooling: boolean;
  /** Endpoint paths, appended to `baseUrl`. */
  paths: { completions: string; chat: string; pooling: string };
}

const V1 = { completions: "/v1/completions", chat: "/v1/chat/completions", pooling: "/pooling" };

export const SERVER_PRESETS: Record<ServerName, ServerCapabilities> = {
  vllm: {
    supportsN: true,
    promptArrays: true,
    maxBatch: 64,
    distinctSeeds: true,
    reportsUsage: true,
    continuation: "flag",
    pooling: true,
    paths: V1,
  },
  sglang: {
    supportsN: true,
    promptArrays: true,
    maxBatch: 64,
    distinctSeeds: false,
    reportsUsage: true,
    continuation: "none",
    pooling: false,
    paths: V1,
  },
  tgi: {
    supportsN: false,
    promptArrays: true,
    maxBatch: 4,
    distinctSeeds: true,
    reportsUsage: true,
    continuation: "none",
    pooling: false,
    paths: V1,
  },
  ollama: {
    supportsN: false,
    promptArrays: false,
    maxBatch: 1,
    distinctSeeds: true,
    reportsUsage: true,
    continuation: "none",
    pooling: false,
    paths: V1,
  },
  llamacpp: {
    supportsN: false,
    promptArrays: false,
    maxBatch: 1,
    distinctSeeds: true,
    reportsUsage: true,
    continuation: "prefill",
    pooling: false,
    paths: V1,
  },
  // Hosted OpenAI-compatible APIs (OpenAI, AI Gateway's /compat, most GPU clouds): `baseUrl` ends in /v1 or the
  // gateway's provider route, as the OpenAI SDK's baseURL does.
  openai: {
    supportsN: true,
    promptArrays: true,
    maxBatch: 16,
    distinctSeeds: true,
    reportsUsage: true,
    continuation: "none",
    pooling: false,
    paths: { completions: "/completions", chat: "/chat/completions", pooling: "/pooling" },
  },
};

const path = z.string().regex(/^\/[^\s?#]*$/, "a path starting with /");
const headerName = z.string().regex(/^[A-Za-z0-9-]+$/, "an HTTP header name");

/** Configuration fields of every HTTP kind: the server preset and the overrides of its capabilities. */
export const serverFields = {
  server: z.enum(SERVERS).default("vllm"),
  supportsN: z.boolean().optional(),
  promptArrays: z.boolean().optional(),
  /** Prompts per request (default: the server's). */
  maxBatch: z.number().int().min(1).max(1024).optional(),
  distinctSeeds: z.boolean().optional(),
  reportsUsage: z.boolean().optional(),
  paths: z.strictObject({ completions: path.optional(), chat: path.optional(), pooling: path.optional() }).optional(),
  /**
   * Extra headers, each value the NAME of a secret holding it (never the value itself): e.g.
   * `{"cf-aig-authorization": "AIG_TOKEN"}` with the secret AIG_TOKEN = "Bearer …" for an authenticated AI Gateway.
   */
  headers: z.record(headerName, z.string().min(1)).optional(),
};

export interface ServerConfig {
  server: ServerName;
  supportsN?: boolean | undefined;
  promptArrays?: boolean | undefined;
  maxBatch?: number | undefined;
  distinctSeeds?: boolean | undefined;
  reportsUsage?: boolean | undefined;
  paths?: { completions?: string | undefined; chat?: string | undefined; pooling?: string | undefined } | undefined;
}

/** The preset with the configuration's overrides applied. */
export function capabilitiesOf(config: ServerConfig, continuation?: Continuation): ServerCapabilities {
  const preset = SERVER_PRESETS[config.server];
  const promptArrays = config.promptArrays ?? preset.promptArrays;
  return {
    supportsN: config.supportsN ?? preset.supportsN,
    promptArrays,
    maxBatch: promptArrays ? (config.maxBatch ?? preset.maxBatch) : 1,
    distinctSeeds: config.distinctSeeds ?? preset.distinctSeeds,
    reportsUsage: config.reportsUsage ?? preset.reportsUsage,
    continuation: continuation ?? preset.continuation,
    pooling: preset.pooling,
    paths: { ...preset.paths, ...definedOnly(config.paths ?? {}) },
  };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * The samples of one logical request as the server must be asked for them: one request with n samples, or n
 * requests of one sample each with its own seed (`seed + i`), so no two samples repeat.
 */
export function samplesPerRequest(caps: Pick<ServerCapabilities, "supportsN" | "distinctSeeds">, n: number): number {
  return caps.supportsN && caps.distinctSeeds ? n : 1;
}

/** A base URL and a path joined without a doubled or missing slash. */
export function joinUrl(baseUrl: string, path: string): string {
  return baseUrl.replace(/\/+$/, "") + path;
}
