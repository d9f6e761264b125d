/**
 * The Workers AI kind inside workerd with a fake `AI` binding that answers in the documented shapes
 * (workers-types AiTextGenerationOutput: `{ response, usage? }`): fan-out with a seed per sample, usage read
 * where given, a worst-case bound marked estimated where not, and a malformed answer charged and refused.
 */
import { describe, expect, it } from "vitest";
import { startExecution } from "../../src/engine/executor";
import { runToEnd } from "../../src/engine/executeStep";
import { StrategySpecSchema } from "../../src/engine/strategies";
import { wire } from "../../src/wiring/providers";

const PROBLEM = "Start with 23. Add 58. Multiply by 4. Subtract 17. What is the final number?";
const STEPS = "Start with 23.\n\nAdd 58: 81.\n\nMultiply by 4: 324.\n\nSubtract 17: 307. \\boxed{307}";

function fakeAi(opts: { usage: boolean; malformed?: boolean }) {
  const calls: { model: string; inputs: Record<string, unknown> }[] = [];
  return {
    calls,
    AI: {
      async run(model: string, inputs: Record<string, unknown>) {
        calls.push({ model, inputs });
        if (opts.malformed) return { result: "no response field" };
        return {
          response: STEPS,
          ...(opts.usage ? { usage: { prompt_tokens: 50, completion_tokens: 30, total_tokens: 80 } } : {}),
        };
      },
    },
  };
}

const generator = { kind: "workers-ai", model: "@cf/qwen/qwen2.5-math-7b", parameters: 7e9, retries: 0 };
const verifier = { kind: "sim", model: "sim-prm" };

async function solve(env: Record<string, unknown>) {
  const w = wire(JSON.stringify({ generator, verifier }), env);
  if (!w.ok) throw new Error(w.error);
  const spec = StrategySpecSchema.parse({ strategy: "best-of-n", n: 3 });
  const started = startExecution({ question: PROBLEM }, spec, { generations: 8 }, 4, w.wired.costs);
  if (!started.ok) throw new Error(started.error);
  return runToEnd(started.execution, w.wired.providers, w.wired.costs);
}

describe("workers-ai kind", () => {
  it("fans out one run per sample, each with its own seed and raw prompt; usage from the response", async () => {
    const fake = fakeAi({ usage: true });
    const end = await solve({ AI: fake.AI });
    expect(end.stopReason, end.detail).toBe("complete");
    expect(end.outcome?.answer).toBe("307");
    expect(fake.calls).toHaveLength(3);
    expect(new Set(fake.calls.map((c) => c.inputs.seed)).size).toBe(3);
    expect(fake.calls[0]!.inputs.raw).toBe(true);
    expect(end.ledger.generatorPromptTokens).toBe(150);
    expect(end.ledger.generatorCompletionTokens).toBe(90);
  });

  it("without usage in the response, charges the worst case, marked estimated", async () => {
    const fake = fakeAi({ usage: false });
    const end = await solve({ AI: fake.AI });
    expect(end.stopReason, end.detail).toBe("complete");
    expect(end.ledger.generatorCompletionTokens).toBe(3 * 1024);
  });

  it("a malformed answer is a provider error, charged at its bound; a missing binding is refused naming it", async () => {
    const end = await solve({ AI: fakeAi({ usage: true, malformed: true }).AI });
    expect(end.stopReason).toBe("failed");
    expect(end.detail).toMatch(
      /provider generator \(workers-ai, model @cf\/qwen\/qwen2.5-math-7b\): malformed response/,
    );
    expect(end.ledger.generatorCompletionTokens).toBeGreaterThan(0);
    const w = wire(JSON.stringify({ generator, verifier }), {});
    expect(w.ok ? "" : w.error).toMatch(/PROVIDERS\.generator\.binding: the Worker has no AI binding named AI/);
  });
});
