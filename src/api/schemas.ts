/** Request and response bodies of the public API: the single source for validation (and, later, OpenAPI). */
import { z } from "zod";
import { generationCost, StrategySpecSchema } from "../engine/strategies/spec";

export const MAX_PROMPT_CHARS = 20_000;
/** Generations one solve may plan: its candidates live in one Durable Object's storage. */
export const MAX_SOLVE_GENERATIONS = 256;

export const BudgetSchema = z
  .object({
    generations: z.number().int().min(1).max(4096).optional(),
    tokens: z.number().int().min(1).optional(),
    money: z.number().positive().optional(),
    /** Milliseconds from the request. */
    deadlineMs: z.number().int().min(100).max(15 * 60_000).optional(),
  })
  .strict();

export const CreateSolveSchema = z
  .object({
    prompt: z.string().trim().min(1, "prompt must not be empty").max(MAX_PROMPT_CHARS, `prompt must be at most ${MAX_PROMPT_CHARS} characters`),
    strategy: StrategySpecSchema.refine((spec) => generationCost(spec) <= MAX_SOLVE_GENERATIONS, {
      message: `a solve may spend at most ${MAX_SOLVE_GENERATIONS} generations (N·(k+1) for lookahead, s·p for revisions)`,
    }),
    budget: BudgetSchema.default({}),
    seed: z.number().int().min(0).max(2 ** 32 - 1).optional(),
    mode: z.enum(["sync", "async"]).default("async"),
  })
  .strict();

export type CreateSolve = z.output<typeof CreateSolveSchema>;
export type Budget = z.output<typeof BudgetSchema>;

/** The first issue of a failed parse as one sentence naming the field. */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "invalid request";
  const path = issue.path.length ? issue.path.join(".") : "body";
  return `${path}: ${issue.message}`;
}
