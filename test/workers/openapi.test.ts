/** /openapi.json documents exactly the routes the app serves, from the validating schemas; /docs is offline. */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import app from "../../functions/index";
import { jsonSchema, openApiPath } from "../../src/api/openapi";
import { CreateSolveSchema } from "../../src/api/schemas";
import { STRATEGIES } from "../../src/engine/strategies";
import { ChatCompletionRequestSchema } from "../../src/openai/schemas";

type Doc = { openapi: string; paths: Record<string, Record<string, { requestBody?: { content: { "application/json": { schema: unknown } } }; security: unknown[] }>> };

async function doc(): Promise<Doc> {
  const res = await SELF.fetch("https://ttc.test/openapi.json");
  expect(res.status).toBe(200);
  return (await res.json()) as Doc;
}

describe("OpenAPI", () => {
  it("is OpenAPI 3.1 and documents every route the app serves, and only those", async () => {
    const d = await doc();
    expect(d.openapi).toBe("3.1.0");
    const served = new Set(app.routes.filter((r) => r.method !== "ALL" && !r.path.includes("*")).map((r) => `${r.method.toLowerCase()} ${openApiPath(r.path)}`));
    const documented = new Set(Object.entries(d.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`)));
    expect([...documented].sort()).toEqual([...served].sort());
  });

  it("request bodies are the schemas that validate them", async () => {
    const d = await doc();
    const solve = d.paths["/v1/solves"]!.post!.requestBody!.content["application/json"].schema as { properties: { strategy: { oneOf?: { properties: { strategy: { const: string } } }[]; anyOf?: { properties: { strategy: { const: string } } }[] } } };
    expect(solve).toEqual(jsonSchema(CreateSolveSchema));
    const variants = solve.properties.strategy.oneOf ?? solve.properties.strategy.anyOf ?? [];
    expect(variants.map((v) => v.properties.strategy.const)).toEqual(STRATEGIES.map((s) => s.name));
    expect(d.paths["/v1/chat/completions"]!.post!.requestBody!.content["application/json"].schema).toEqual(jsonSchema(ChatCompletionRequestSchema));
    expect(d.paths["/v1/solves/{id}"]!.get!.security).toEqual([{ apiKey: [] }]);
  });

  it("/docs is one self-contained page naming every route", async () => {
    const res = await SELF.fetch("https://ttc.test/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/html/);
    const html = await res.text();
    for (const path of Object.keys((await doc()).paths)) expect(html).toContain(`<code>${path}</code>`);
    expect(html).not.toMatch(/<script|<link|(src|href)="(https?:)?\/\//i);
  });
});
