/**
 * The simulated world as a provider kind: `{"kind": "sim", "model": "sim-base"}` serves one role in process
 * from the bundled default world, so a configuration can mix simulated and real providers (e.g. a real
 * generator scored by the simulated PRM). `PROVIDERS = "sim"` is every role simulated (`src/wiring`).
 */
import { z } from "zod";
import defaultWorld from "../../worlds/default.json";
import { renderPrompt } from "../engine/prompts";
import { defineKind } from "../providers/registry";
import type { GeneratorAdapter, VerifierAdapter } from "../providers/shared";
import { countTokens, SimModels, type SimModelName } from "./models";
import { scoringTokens, simModelCards } from "./provider";
import { parseWorld, type World } from "./world";

const GENERATORS: Record<string, SimModelName> = { "sim-base": "base", "sim-large": "large", "sim-reviser": "reviser" };

export const simSchema = z.object({
  kind: z.literal("sim"),
  model: z.enum(["sim-base", "sim-large", "sim-reviser", "sim-prm"]),
});

let world: World | undefined;
let models: SimModels | undefined;
function simWorld(): { world: World; models: SimModels } {
  if (!world) {
    const parsed = parseWorld(defaultWorld);
    if (!parsed.ok) throw new Error(parsed.error);
    world = parsed.world;
    models = new SimModels(world);
  }
  return { world, models: models! };
}

export const simKind = defineKind({
  kind: "sim",
  schema: simSchema,
  generator(name, config): GeneratorAdapter {
    const model = GENERATORS[config.model];
    if (!model) throw new Error(`model: ${config.model} is the simulated PRM and cannot generate`);
    const { world, models } = simWorld();
    const card = simModelCards(world, model).generator;
    return {
      card: { ...card, name },
      label: `provider ${name} (sim, model ${config.model})`,
      continues: true,
      promptTokenBound: (req) => countTokens(renderPrompt(req)),
      subrequests: () => 0,
      generate: async (requests) => requests.map((req) => models.complete(model, renderPrompt(req), req)),
    };
  },
  verifier(name, config): VerifierAdapter {
    if (config.model !== "sim-prm") throw new Error(`model: the simulated verifier is sim-prm, not ${config.model}`);
    const { world, models } = simWorld();
    return {
      card: { ...simModelCards(world).verifier, name },
      scoreTokenBound: scoringTokens,
      subrequests: () => 0,
      score: async (requests) =>
        requests.map((req) => ({
          scores: models.score(req.question, req.steps),
          usage: { promptTokens: scoringTokens(req), completionTokens: 0 },
        })),
    };
  },
  refuse: (config, role) =>
    (role === "verifier") !== (config.model === "sim-prm") ? `model: ${config.model} cannot be the ${role}` : undefined,
});
