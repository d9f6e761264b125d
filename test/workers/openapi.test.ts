/** /openapi.json documents exactly the routes the app serves, from the validating schemas; /docs is offline. */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { app } from "../../functions/app";
import { jsonSchema, openApiPath, OPERATIONS } from "../../src/api/openapi";
import { newTenantKey } from "./auth";
import { CreateSolveSchema } from "../../src/api/schemas";
import { STRATEGIES } from "../../src/engine/strategies";
import { ChatCompletionRequestSchema } from "../../src/openai/schemas";

type Doc = {
  openapi: string;
  paths: Record<
    string,
    Record<string, { requestBody?: { content: { "application/json": { schema: unknown } } }; security: unknown[] }>
  >;
};

async function doc(): Promise<Doc> {
  const res = await SELF.fetch("https://ttc.test/openapi.json");
  expect(res.status).toBe(200);
  return (await res.json()) as Doc;
}

describe("OpenAPI", () => {
  it("is OpenAPI 3.1 and documents every route the app serves, and only those", async () => {
    const d = await doc();
    expect(d.openapi).toBe("3.1.0");
    const served = new Set(
      app.routes
        .filter((r) => r.method !== "ALL" && !r.path.includes("*"))
        .map((r) => `${r.method.toLowerCase()} ${openApiPath(r.path)}`),
    );
    const documented = new Set(
      Object.entries(d.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`)),
    );
    expect([...documented].sort()).toEqual([...served].sort());
  });

  it("request bodies are the schemas that validate them", async () => {
    const d = await doc();
    const solve = d.paths["/v1/solves"]!.post!.requestBody!.content["application/json"].schema as {
      properties: {
        strategy: {
          oneOf?: { properties: { strategy: { const: string } } }[];
          anyOf?: { properties: { strategy: { const: string } } }[];
        };
      };
    };
    expect(solve).toEqual(jsonSchema(CreateSolveSchema));
    const variants = solve.properties.strategy.oneOf ?? solve.properties.strategy.anyOf ?? [];
    expect(variants.map((v) => v.properties.strategy.const)).toEqual(["auto", ...STRATEGIES.map((s) => s.name)]);
    expect(d.paths["/v1/chat/completions"]!.post!.requestBody!.content["application/json"].schema).toEqual(
      jsonSchema(ChatCompletionRequestSchema),
    );
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

  it("real answers match their documented schemas, field for field", async () => {
    const k = await newTenantKey();
    const admin = { authorization: `Bearer ${env.ADMIN_SECRET}`, "content-type": "application/json" };
    const check = async (
      method: "get" | "post",
      path: string,
      url: string,
      init: RequestInit = {},
    ): Promise<unknown> => {
      const res = await SELF.fetch(`https://ttc.test${url}`, { method: method.toUpperCase(), ...init });
      const schema = OPERATIONS.find((o) => o.method === method && o.path === path)?.responses[res.status]?.schema;
      expect(schema, `${method} ${path} ${res.status} is documented with a schema`).toBeDefined();
      const body = (await res.json()) as unknown;
      // Parsing strips fields a schema does not name: equal output means every field is documented.
      expect(schema!.parse(body), `${method} ${path}`).toEqual(body);
      return body;
    };
    const solve = (await check("post", "/v1/solves", "/v1/solves", {
      headers: k.headers,
      body: JSON.stringify({
        prompt: "Start with 2. Add 3. What is the final number?",
        strategy: { strategy: "best-of-n", n: 2 },
      }),
    })) as { id: string };
    await check("get", "/v1/solves/:id", `/v1/solves/${solve.id}`, { headers: k.headers });
    await check("get", "/v1/usage", "/v1/usage", { headers: k.headers });
    await check("get", "/v1/models", "/v1/models", { headers: k.headers });
    await check("get", "/v1/models/:id", "/v1/models/ttc-dvts", { headers: k.headers });
    await check("post", "/v1/chat/completions", "/v1/chat/completions", {
      headers: k.headers,
      body: JSON.stringify({
        model: "ttc-best-of-n",
        reasoning_effort: "low",
        messages: [{ role: "user", content: "Start with 2. Add 3. What is the final number?" }],
      }),
    });
    await check("get", "/v1/webhooks/secret", "/v1/webhooks/secret", { headers: k.headers });
    await check("get", "/v1/webhooks/deliveries", "/v1/webhooks/deliveries", { headers: k.headers });
    const tenant = (await check("post", "/admin/tenants", "/admin/tenants", {
      headers: admin,
      body: JSON.stringify({ name: "documented" }),
    })) as { id: string };
    const key = (await check("post", "/admin/keys", "/admin/keys", {
      headers: admin,
      body: JSON.stringify({ tenantId: tenant.id }),
    })) as { id: string };
    await check("get", "/admin/keys", `/admin/keys?tenantId=${tenant.id}`, { headers: admin });
    await check("post", "/admin/keys/:id/revoke", `/admin/keys/${key.id}/revoke`, { method: "POST", headers: admin });
    await check("get", "/v1/solves/:id", "/v1/solves/00000000-0000-4000-8000-000000000000", { headers: k.headers });
  });
});
