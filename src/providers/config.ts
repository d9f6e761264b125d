/**
 * Provider configuration: the fields every kind shares (a model, a parameter count for FLOPs, prices) and
 * those of kinds reached over HTTP (endpoint, timeouts, the server preset). Each kind's own schema lives in
 * its module (see `registry.ts`). API keys are never in the configuration: `apiKeySecret` names the secret
 * (a Worker secret or environment variable) that holds it, and extra headers name secrets too.
 */
import { z } from "zod";
import { serverFields } from "./servers";

export const cardFields = {
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

export const remoteFields = {
  baseUrl: z.url(),
  apiKeySecret: z.string().min(1).optional(),
  /** Per request; a fanned-out call's requests each get it, queued ones wait their turn on top. */
  timeoutMs: z.number().int().min(100).max(900_000).default(60_000),
  retries: z.number().int().min(0).max(10).default(3),
  /** Open requests at once; the Workers platform allows 6 connections per invocation. */
  concurrency: z.number().int().min(1).max(6).default(6),
  ...serverFields,
};

export type CardConfig = z.output<z.ZodObject<typeof cardFields>>;
export type RemoteConfig = CardConfig & z.output<z.ZodObject<typeof remoteFields>>;
