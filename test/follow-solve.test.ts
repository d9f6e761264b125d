/** The event blocks a solve's Durable Object pushes, as the Worker's own streams read them (src/api/followSolve.ts). */
import { describe, expect, it } from "vitest";
import { parseEventBlock } from "../src/api/followSolve";

describe("parseEventBlock", () => {
  it("reads the id, type and data the object writes, and skips a block without an id", () => {
    expect(parseEventBlock('id: 7\nevent: step\ndata: {"step":3}')).toEqual({
      seq: 7,
      type: "step",
      data: '{"step":3}',
    });
    expect(parseEventBlock("id: 9\nevent: done\ndata: {}")).toEqual({ seq: 9, type: "done", data: "{}" });
    expect(parseEventBlock(": ping")).toBeNull();
    expect(parseEventBlock("event: step\ndata: {}")).toBeNull();
  });
});
