/**
 * A streamed chat completion: the role first, then a reasoning line per executor step as the solve makes
 * progress (pushed by its Durable Object as it happens: src/api/followSolve.ts), then the answers, the finish reasons, the usage chunk
 * when asked for, and `[DONE]`; a heartbeat comment every 15 s meanwhile. A client that goes away cancels its solve: nobody would read the answer.
 */
import type { Context } from "hono";
import { streamSSE, type SSEStreamingApi } from "hono/streaming";
import type { AppEnv } from "../auth/env";
import { sessionOf } from "../api/startSolve";
import { heartbeat, heartbeatMs } from "./sse";
import { followSolve } from "../api/followSolve";
import { chunk, finishReason, progressLine, usageOf, type ChunkChoice } from "./completion";

const MAX_STREAM_MS = 15 * 60_000;

export function streamCompletion(
  c: Context<AppEnv>,
  o: { solveId: string; created: number; model: string; n: number; includeUsage: boolean },
): Response {
  const tenantId = c.get("principal").tenantId;
  const stub = sessionOf(c.env, o.solveId);
  const send = (choices: ChunkChoice[], usage?: ReturnType<typeof usageOf> | null) =>
    JSON.stringify(chunk(o.solveId, o.created, o.model, choices, o.includeUsage ? (usage ?? null) : undefined));
  return streamSSE(c, async (stream) => {
    const stopBeating = heartbeat(stream, heartbeatMs(c.env));
    try {
      await run(stream);
    } finally {
      stopBeating();
    }
  });
  async function run(stream: SSEStreamingApi): Promise<void> {
    let finished = false;
    const left = new AbortController();
    stream.onAbort(() => {
      left.abort();
      // The response is over; waitUntil keeps the invocation alive until the cancel is delivered.
      if (!finished) c.executionCtx.waitUntil(stub.cancel(tenantId));
    });
    const indices = Array.from({ length: o.n }, (_, i) => i);
    await stream.writeSSE({
      data: send(indices.map((index) => ({ index, delta: { role: "assistant", content: "" }, finish_reason: null }))),
    });
    if (stream.aborted) left.abort();
    const ended = await followSolve(() => sessionOf(c.env, o.solveId), tenantId, {
      keepAlive: (p) => c.executionCtx.waitUntil(p),
      signal: left.signal,
      deadline: Date.now() + MAX_STREAM_MS,
      onEvent: async (e) => {
        if (e.type === "step")
          await stream.writeSSE({
            data: send([
              {
                index: 0,
                delta: { reasoning_content: progressLine(JSON.parse(e.data) as never) },
                finish_reason: null,
              },
            ]),
          });
      },
    });
    if (ended === "left" || stream.aborted) return;
    if (ended === "timedOut") {
      await stream.writeSSE({
        data: JSON.stringify({
          error: {
            message: `solve ${o.solveId} is still running; poll GET /v1/solves/${o.solveId}`,
            type: "timeout_error",
            param: null,
            code: "timeout",
          },
        }),
      });
      return;
    }
    const result = await stub.choices(tenantId, o.n);
    finished = true;
    if (!result.ok) throw new Error(`solve ${o.solveId} vanished: ${result.error}`);
    const { view, choices, spend } = result.value;
    if (view.stopReason === "failed" && view.answer === null) {
      const requestId = c.get("requestId");
      console.error(`chat completion ${o.solveId} (request ${requestId}) failed: ${view.detail}`);
      await stream.writeSSE({
        data: JSON.stringify({
          error: {
            message: `the solve failed before it found an answer; solve ${o.solveId}, request id ${requestId}`,
            type: "server_error",
            param: null,
            code: "solve_failed",
          },
        }),
      });
      return;
    }
    // Every choice the client asked for gets its content and its own finish_reason.
    for (const [index, choice] of choices.entries()) {
      if (choice.content)
        await stream.writeSSE({ data: send([{ index, delta: { content: choice.content }, finish_reason: null }]) });
      await stream.writeSSE({ data: send([{ index, delta: {}, finish_reason: finishReason(view) }]) });
    }
    if (o.includeUsage) {
      await stream.writeSSE({ data: JSON.stringify(chunk(o.solveId, o.created, o.model, [], usageOf(spend))) });
    }
    await stream.writeSSE({ data: "[DONE]" });
  }
}
