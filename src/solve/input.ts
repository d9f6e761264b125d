/** A solve as it is started: what the edge hands its Durable Object, kept there and recorded in D1 at the end. */
import type { Budget } from "../engine/budget";
import type { Conversation } from "../engine/types";
import type { StrategySpec } from "../engine/strategies";
import type { AutoDecision } from "../policy/auto";
import type { ProbePlan } from "../policy/probeStep";

/** What a Responses API request's response object echoes back (src/openai/responses.ts). */
export interface ResponseEcho {
  model: string;
  effort: string;
  instructions: string | null;
  maxOutputTokens: number | null;
  background: boolean;
  temperature: number | null;
}

/** What the edge handler hands a new solve. */
export interface StartInput {
  id: string;
  /** Who owns the solve: other tenants are told it does not exist. */
  tenantId: string;
  /** The key whose daily caps the solve is charged against (its KeyQuota object). */
  keyId: string;
  prompt: string;
  /** The conversation the prompt was asked in (OpenAI-compatible requests), rendered with it for every model. */
  context?: Conversation;
  stop?: string[];
  /** The caller's `user` and `metadata` (OpenAI-compatible requests), kept with the solve. */
  user?: string;
  metadata?: Record<string, string>;
  /** A Responses API request: what its response object echoes. */
  response?: ResponseEcho;
  spec: StrategySpec;
  budget: Budget;
  seed: number;
  /** Where to POST the solve's completion (Standard Webhooks), checked by the SSRF guard. */
  webhook?: { url: string };
  /** For `auto` solves decided at the edge: what the policy chose and why. */
  policy?: AutoDecision;
  /** For `auto` solves whose policy probes first: `spec` is the probe, and this decides after it. */
  probe?: ProbePlan;
}

export interface SolveMeta {
  input: StartInput;
  createdAt: number;
}
