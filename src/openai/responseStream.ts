/**
 * A streamed response: OpenAI's typed events in the order its SDKs accumulate them (openai-node's
 * `lib/responses/ResponseStream` and `ResponseAccumulator`): `response.created`, `response.in_progress`,
 * then, once the solve has ended, the message item (`response.output_item.added`,
 * `response.content_part.added`, `response.output_text.delta`, `response.output_text.done`,
 * `response.content_part.done`, `response.output_item.done`), and `response.completed` (or
 * `response.incomplete`, `response.failed`, `response.cancelled`'s equivalent `response.failed`) with the
 * full response. A heartbeat comment every 15 s meanwhile. A client that goes away cancels the solve unless
 * the response runs in the background.
 */
import type { Context } from "hono";
import { streamSSE, type SSEStreamingApi } from "hono/streaming";
import type { AppEnv } from "../auth/env";
import type { SolveView } from "../api/schemas";
import { sessionOf } from "../api/startSolve";
import { outputMessage, responseObject, type ResponseEcho } from "./responses";
import { heartbeat, heartbeatMs } from "./sse";
import { followSolve } from "../api/followSolve";

const MAX_STREAM_MS = 15 * 60_000;

export function streamResponse(
  c: Context<AppEnv>,
  o: {
    view: SolveView;
    echo: ResponseEcho;
    metadata?: Record<string, string> | undefined;
    user?: string | undefined;
  },
): Response {
  const tenantId = c.get("principal").tenantId;
  const solveId = o.view.id;
  const stub = sessionOf(c.env, solveId);
  const extra = { metadata: o.metadata, user: o.user };
  let seq = 0;
  const emit = (stream: SSEStreamingApi, type: string, fields: Record<string, unknown>) =>
    stream.writeSSE({ event: type, data: JSON.stringify({ type, sequence_number: seq++, ...fields }) });

  return streamSSE(c, async (stream) => {
    const stopBeating = heartbeat(stream, heartbeatMs(c.env));
    let finished = false;
    const left = new AbortController();
    stream.onAbort(() => {
      left.abort();
      if (!finished && !o.echo.background) c.executionCtx.waitUntil(stub.cancel(tenantId));
    });
    try {
      const started = responseObject(o.view, o.echo, extra);
      await emit(stream, "response.created", { response: started });
      await emit(stream, "response.in_progress", { response: started });
      if (stream.aborted) left.abort();
      // Nothing is sent per step here: the typed events come once the solve has ended.
      const ended = await followSolve(() => sessionOf(c.env, solveId), tenantId, {
        keepAlive: (p) => c.executionCtx.waitUntil(p),
        signal: left.signal,
        deadline: Date.now() + MAX_STREAM_MS,
        onEvent: async () => {},
      });
      if (ended === "left" || stream.aborted) return;
      if (ended === "timedOut") {
        await emit(stream, "error", {
          code: "timeout",
          message: `response ${started.id} is still running; retrieve it with GET /v1/responses/${started.id}`,
          param: null,
        });
        return;
      }
      const result = await stub.choices(tenantId, 1);
      finished = true;
      if (!result.ok) throw new Error(`solve ${solveId} vanished: ${result.error}`);
      const { view, choices, spend } = result.value;
      const final = responseObject(view, o.echo, extra, { choice: choices[0], spend });
      if (final.status !== "failed") {
        const text = final.output_text;
        const item = outputMessage(solveId, text, "in_progress");
        const part = { type: "output_text", text: "", annotations: [], logprobs: [] };
        const at = { item_id: item.id, output_index: 0, content_index: 0 };
        await emit(stream, "response.output_item.added", { output_index: 0, item });
        await emit(stream, "response.content_part.added", { ...at, part });
        await emit(stream, "response.output_text.delta", { ...at, delta: text, logprobs: [] });
        await emit(stream, "response.output_text.done", { ...at, text, logprobs: [] });
        await emit(stream, "response.content_part.done", { ...at, part: { ...part, text } });
        await emit(stream, "response.output_item.done", { output_index: 0, item: final.output[0] });
      }
      const terminal =
        final.status === "completed"
          ? "response.completed"
          : final.status === "incomplete"
            ? "response.incomplete"
            : "response.failed";
      await emit(stream, terminal, { response: final });
    } finally {
      stopBeating();
    }
  });
}
