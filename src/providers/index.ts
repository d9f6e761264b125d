/**
 * From adapters to the executor's ProviderSet and CostModel: a generator, a verifier and optionally a revision
 * model and a larger model. Which kinds exist and how PROVIDERS becomes adapters is `src/wiring/providers.ts`.
 */
import { NO_LARGE_MODEL, type CostModel } from "../engine/budget";
import type { ProviderSet } from "../engine/executeStep";
import type { GenerateRequest, GeneratorRole, ScoreRequest } from "../engine/types";
import type { GeneratorAdapter, VerifierAdapter } from "./shared";

export { ProviderError } from "./http";
export type { AdapterContext, GeneratorAdapter, VerifierAdapter } from "./shared";

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
