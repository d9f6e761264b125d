/** The API's one error renderer, with Hono's own middleware in front of it: their refusals keep their status. */
import { describe, expect, it } from "vitest";
import { Hono } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { ApiError, renderError } from "../src/errors/apiError.js";

function app(): Hono {
  const a = new Hono();
  a.use("/private/*", bearerAuth({ token: "secret" }));
  a.get("/private/x", (c) => c.json({ ok: true }));
  a.get("/refuse", () => {
    throw new ApiError(409, "conflict", "already exists");
  });
  a.get("/bug", () => {
    throw new Error("database password is hunter2");
  });
  a.onError(renderError);
  return a;
}

describe("error rendering", () => {
  it("a middleware's HTTPException keeps its status (bearer auth: 401), in the API's error shape", async () => {
    const res = await app().request("/private/x");
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
    expect((await app().request("/private/x", { headers: { authorization: "Bearer secret" } })).status).toBe(200);
  });

  it("an ApiError answers its status, type and message", async () => {
    const res = await app().request("/refuse");
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({
      error: { message: "already exists", type: "conflict_error", param: null, code: "conflict" },
    });
  });

  it("anything else is a 500 with a request id, and its message is not echoed", async () => {
    const errors: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void errors.push(args);
    try {
      const res = await app().request("/bug");
      expect(res.status).toBe(500);
      const body = (await res.json()) as { error: { type: string; code: string; message: string } };
      expect(body.error).toMatchObject({ type: "server_error", code: "internal" });
      expect(body.error.message).toMatch(/request id [0-9a-f-]{36}/);
      expect(JSON.stringify(body)).not.toContain("hunter2");
      expect(errors).toHaveLength(1);
    } finally {
      console.error = original;
    }
  });
});
