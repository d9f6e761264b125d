/**
 * From provider configurations to the executor's ProviderSet and CostModel: a generator, a verifier and
 * optionally a revision model, each a remote adapter (`fromEnv.ts` adds the simulated world in process).
 */
import { NO_LARGE_MODEL, type CostModel } from "../engine/budget";
import type { ProviderSet } from "../engine/step";
import type { GenerateRequest, GeneratorRole, ScoreRequest } from "../engine/types";
import { chatGenerator } from "./chat";
import { completionsGenerator } from "./completions";
import type { ProviderConfig } from "./config";
import { judgeVerifier } from "./judge";
import { poolingVerifier } from "./prm";
import type { AdapterContext, GeneratorAdapter, VerifierAdapter } from "./shared";

export { ProviderError } from "./http";
export type { AdapterContext, GeneratorAdapter, VerifierAdapter } from "./shared";

export function generatorAdapter(name: string, config: ProviderConfig, context: AdapterContext = {}): GeneratorAdapter {
  switch (config.kind) {
    case "openai-completions":
      return completionsGenerator(name, config, context);
    case "openai-chat":
      return chatGenerator(name, config, context);
    default:
      throw new Error(`provider ${name} is a ${config.kind} provider and cannot generate`);
  }
}

export function verifierAdapter(name: string, config: ProviderConfig, context: AdapterContext = {}): VerifierAdapter {
  switch (config.kind) {
    case "vllm-prm":
      return poolingVerifier(name, config, context);
    case "llm-judge":
      return judgeVerifier(name, config, context);
    default:
      throw new Error(`provider ${name} is a ${config.kind} provider and cannot score steps`);
  }
}

/**
 * Assemble the executor's view of a set of adapters. The reviser falls back to the generator; the larger model
 * does not (a request for it without one is refused before it starts, see `refuseBudget`).
 */
export function assembleProviders(adapters: {
  generator: GeneratorAdapter;
  verifier: VerifierAdapter;
  reviser?: GeneratorAdapter;
  large?: GeneratorAdapter;
}): { providers: ProviderSet; costs: CostModel } {
  const gen = (role: GeneratorRole): GeneratorAdapter => {
    if (role === "large") {
      if (!adapters.large) throw new Error(NO_LARGE_MODEL);
      return adapters.large;
    }
    return role === "reviser" ? (adapters.reviser ?? adapters.generator) : adapters.generator;
  };
  return {
    providers: {
      generate: (role, requests, ctx) => gen(role).generate(requests, ctx),
      score: (requests, ctx) => adapters.verifier.score(requests, ctx),
      subrequests: (role, requests) =>
        role === "verifier"
          ? adapters.verifier.subrequests(requests as ScoreRequest[])
          : gen(role).subrequests(requests as GenerateRequest[]),
    },
    costs: {
      cards: {
        generator: adapters.generator.card,
        reviser: gen("reviser").card,
        verifier: adapters.verifier.card,
        ...(adapters.large ? { large: adapters.large.card } : {}),
      },
      promptTokenBound: (req: GenerateRequest) => gen(req.role).promptTokenBound(req),
      scoreTokenBound: (req: ScoreRequest) => adapters.verifier.scoreTokenBound(req),
    },
  };
}
