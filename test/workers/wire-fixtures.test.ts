/**
 * Golden wire fixtures (test/fixtures/wire-fixtures.json): request/response pairs in the shapes each server's
 * own source defines (cited per fixture), errors included, replayed against the adapters inside workerd. Each
 * fixture says what the adapter must send (path, body fields, fields it must leave out, prompt as a string or
 * an array) and what it must make of the answer (samples, scores, a provider error, what was charged).
 */
import { describe, expect, it } from "vitest";
import type { BilledAttempt, CallContext, GenerateRequest } from "../../src/engine/types";
import fixtures from "../fixtures/wire-fixtures.json";
import { generatorAdapter, parseProviderConfig, verifierAdapter } from "../../src/wiring/providers";

interface Exchange {
  path: string;
  body?: Record<string, unknown>;
  absent?: string[];
  types?: Record<string, "string" | "array">;
  status: number;
  response: unknown;
}
interface Fixture {
  name: string;
  source: string;
  role?: "verifier";
  provider: Record<string, unknown>;
  call: { n?: number; count?: number; prefix?: string[]; steps?: string[] };
  exchanges: Exchange[];
  result: {
    texts?: string[][];
    scores?: number[][];
    error?: string;
    requests?: number;
    distinctSeeds?: boolean;
    finish?: string;
    estimated?: boolean;
    charged?: number;
  };
}

const QUESTION = (i: number) => `Start with ${i + 2}. Add 3. What is the final number?`;

describe("golden wire fixtures", () => {
  it("has at least 16, each citing its source", () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(16);
    for (const f of fixtures as Fixture[]) expect(f.source.length).toBeGreaterThan(10);
  });

  it.each((fixtures as Fixture[]).map((f) => [f.name, f] as const))("%s", async (_, f) => {
    const sent: { path: string; body: Record<string, unknown> }[] = [];
    const fake = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
      const req = new Request(input, init);
      const body = (await req.json()) as Record<string, unknown>;
      const ex = f.exchanges[Math.min(sent.length, f.exchanges.length - 1)]!;
      sent.push({ path: new URL(req.url).pathname, body });
      return new Response(JSON.stringify(ex.response), {
        status: ex.status,
        headers: { "content-type": "application/json" },
      });
    };
    const billed: BilledAttempt[] = [];
    const ctx: CallContext = { billed: (a) => billed.push(a) };
    const context = { fetch: fake as typeof fetch, backoffBaseMs: 1, random: () => 0 };
    const role = f.role ?? "generator";
    const config = parseProviderConfig(role, f.provider);
    let result: unknown;
    let error: unknown;
    try {
      if (role === "verifier") {
        result = await verifierAdapter("verifier", config, context).score(
          [{ question: QUESTION(0), steps: f.call.steps! }],
          ctx,
        );
      } else {
        const requests: GenerateRequest[] = Array.from({ length: f.call.count ?? 1 }, (_, i) => ({
          role: "generator",
          question: QUESTION(i),
          prefix: f.call.prefix ?? [],
          n: f.call.n ?? 1,
          temperature: 0.8,
          oneStep: false,
          maxTokens: 64,
          seed: 7,
        }));
        result = await generatorAdapter("generator", config, context).generate(requests, ctx);
      }
    } catch (err) {
      error = err;
    }
    // What was sent.
    for (const [i, s] of sent.entries()) {
      const ex = f.exchanges[Math.min(i, f.exchanges.length - 1)]!;
      expect(s.path).toBe(ex.path);
      if (ex.body) expect(s.body).toMatchObject(ex.body);
      for (const key of ex.absent ?? []) expect(s.body).not.toHaveProperty(key);
      for (const [key, type] of Object.entries(ex.types ?? {}))
        expect(type === "array" ? Array.isArray(s.body[key]) : typeof s.body[key] === "string").toBe(true);
    }
    if (f.result.requests !== undefined) expect(sent).toHaveLength(f.result.requests);
    if (f.result.distinctSeeds) expect(new Set(sent.map((s) => s.body.seed)).size).toBe(sent.length);
    // What was made of the answer.
    if (f.result.error) {
      expect(error, "expected a provider error").toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(new RegExp(f.result.error));
      if (f.result.charged !== undefined)
        expect(billed.reduce((t, b) => t + b.usage.promptTokens + b.usage.completionTokens, 0)).toBe(f.result.charged);
      return;
    }
    expect(error).toBeUndefined();
    if (f.result.scores) expect((result as { scores: number[] }[]).map((r) => r.scores)).toEqual(f.result.scores);
    if (f.result.texts) {
      const out = result as { completions: { text: string; finishReason: string }[]; estimated?: boolean }[];
      expect(out.map((r) => r.completions.map((c) => c.text))).toEqual(f.result.texts);
      if (f.result.finish) expect(out[0]!.completions[0]!.finishReason).toBe(f.result.finish);
      expect(out[0]!.estimated === true).toBe(f.result.estimated === true);
    }
  });
});
