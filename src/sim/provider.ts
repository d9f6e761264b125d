/**
 * The simulated world as an in-process provider: no network, the zero-configuration default. Requests
 * are rendered with the same prompt template a real completions provider gets, and the simulated models
 * read that text.
 */
import type { CostModel, ModelCard } from "../engine/budget";
import type { ProviderSet } from "../engine/executeStep";
import { renderInstructions, renderPrompt, renderTranscript } from "../engine/prompts";
import type { GenerateRequest, GenerateResponse, GeneratorRole, ScoreRequest, ScoreResponse } from "../engine/types";
import { countTokens, SimModels, type SimModelName } from "./models";
import type { World } from "./world";

/** Tokens the PRM is billed for one request: question and steps, plus one separator token per step. */
export function scoringTokens(req: ScoreRequest): number {
  let t = countTokens(req.question) + 16;
  // A conversation is read with the question (the same rendering the HTTP PRM gets).
  if (req.context) t += countTokens(renderInstructions(req.context) + renderTranscript(req.context.turns));
  for (const s of req.steps) t += countTokens(s) + 1;
  return t;
}

export interface SimProviderOptions {
  /** Serve the generator role with the larger model (escalation). */
  generatorModel?: SimModelName;
}

export function simModelCards(world: World, generatorModel: SimModelName = "base"): CostModel["cards"] {
  const card = (
    name: string,
    m: { parameters: number; inputPricePerMillion: number; outputPricePerMillion: number },
  ): ModelCard => ({
    name,
    parameters: m.parameters,
    inputPricePerMillion: m.inputPricePerMillion,
    outputPricePerMillion: m.outputPricePerMillion,
    // In process, a repeated call is answered again from the same seed at no cost to anyone.
    replaysRequests: true,
  });
  return {
    generator: card(`sim-${generatorModel}`, world[generatorModel]),
    reviser: card("sim-reviser", world.reviser),
    verifier: card("sim-prm", world.verifier),
    large: card("sim-large", world.large),
  };
}

export function simCostModel(world: World, generatorModel: SimModelName = "base"): CostModel {
  return {
    cards: simModelCards(world, generatorModel),
    // The simulated tokenizer is known exactly, so the bounds are exact.
    promptTokenBound: (req) => countTokens(renderPrompt(req)),
    scoreTokenBound: scoringTokens,
  };
}

export function simProviders(
  world: World,
  options: SimProviderOptions = {},
): { providers: ProviderSet; costs: CostModel; models: SimModels } {
  const models = new SimModels(world);
  const generatorModel = options.generatorModel ?? "base";
  const modelFor = (role: GeneratorRole): SimModelName =>
    role === "reviser" ? "reviser" : role === "large" ? "large" : generatorModel;
  const providers: ProviderSet = {
    async generate(role: GeneratorRole, requests: GenerateRequest[]): Promise<GenerateResponse[]> {
      return requests.map((req) => models.complete(modelFor(role), renderPrompt(req), req));
    },
    async score(requests: ScoreRequest[]): Promise<ScoreResponse[]> {
      return requests.map((req) => ({
        scores: models.score(req.question, req.steps),
        usage: { promptTokens: scoringTokens(req), completionTokens: 0 },
      }));
    },
  };
  return { providers, costs: simCostModel(world, generatorModel), models };
}
