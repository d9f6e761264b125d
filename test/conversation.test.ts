/**
 * Conversations as every provider kind sees them (docs/openai.md): the completion transcript, the chat
 * messages a chat template joins into the same text, the PRM's and the judge's input; the simulated models
 * find the question after any history; stop sequences cut samples; n choices always arrive; a cancelled call
 * is aborted, not retried, and reported as possibly billed.
 */
import { describe, expect, it } from "vitest";
import { chatToPrompt, renderChatMessages, renderPrompt } from "../src/engine/prompts";
import { cutAtStop } from "../src/engine/executeStep";
import type { Conversation, GenerateRequest } from "../src/engine/types";
import { topChoices } from "../src/solve/choices";
import { conversationOf } from "../src/openai/conversation";
import { parseJudgeUser, parsePrmInput, renderJudgeUser, renderPrmInput } from "../src/providers/formats";
import { postJson, ProviderError } from "../src/providers/http";
import { parsePrompt } from "../src/sim/models";

const QUESTION = "Start with 4. Add 5. What is the final number?";
const context: Conversation = {
  instructions: ["You are terse.", "Use the boxed format."],
  turns: [
    { role: "user", content: "Problem: Start with 1. Add 1. What is the final number?" },
    { role: "assistant", content: "1 + 1 = 2.\n\nThe final answer is $\\boxed{2}$." },
  ],
};
const req: Pick<GenerateRequest, "question" | "prefix" | "context"> = {
  question: QUESTION,
  prefix: ["4 + 5 = 9."],
  context,
};

describe("conversation rendering", () => {
  it("the completion transcript: instructions, earlier turns, then the problem and the partial solution", () => {
    expect(renderPrompt(req)).toBe(
      "Solve the following math problem step by step. Write one step per paragraph, separate steps with a blank line, and put the final answer in \\boxed{}." +
        "\n\nInstructions:\nYou are terse.\n\nUse the boxed format." +
        "\n\nConversation so far:\nUser: Problem: Start with 1. Add 1. What is the final number?\n\nAssistant: 1 + 1 = 2.\n\nThe final answer is $\\boxed{2}$." +
        `\n\nProblem: ${QUESTION}\n\nSolution:\n4 + 5 = 9.\n\n`,
    );
  });

  it("chat messages carry the same parts, and a simple chat template joins them into the same text", () => {
    const messages = renderChatMessages(req);
    expect(messages.map((m) => m.role)).toEqual(["system", "user", "assistant", "user", "assistant"]);
    expect(messages[0]!.content).toContain("Instructions:\nYou are terse.");
    expect(chatToPrompt(messages)).toBe(renderPrompt(req));
    expect(chatToPrompt(renderChatMessages({ question: QUESTION, prefix: [] }))).toBe(
      renderPrompt({ question: QUESTION, prefix: [] }),
    );
  });

  it("the simulated model reads the last problem, not one in the history", () => {
    expect(parsePrompt(renderPrompt(req))).toMatchObject({ question: QUESTION, prefix: ["4 + 5 = 9."] });
  });

  it("the PRM and the judge score the steps in the same context, and read the question back", () => {
    const prm = renderPrmInput(QUESTION, ["4 + 5 = 9."], context);
    expect(prm).toContain("<|im_start|>assistant\n1 + 1 = 2.");
    expect(prm).toContain("Instructions:\nYou are terse.");
    expect(parsePrmInput(prm)).toEqual({ question: QUESTION, steps: ["4 + 5 = 9."] });
    const judge = renderJudgeUser(QUESTION, ["4 + 5 = 9.", "The final answer is $\\boxed{9}$."], context);
    expect(judge.startsWith("Instructions:\n")).toBe(true);
    expect(parseJudgeUser(judge)).toEqual({
      question: QUESTION,
      steps: ["4 + 5 = 9.", "The final answer is $\\boxed{9}$."],
    });
  });

  it("messages become question and context; what cannot be served is refused naming the message", () => {
    expect(
      conversationOf([
        { role: "system", content: "a" },
        { role: "user", content: "q1" },
        { role: "assistant", content: "a1" },
        { role: "developer", content: [{ type: "text", text: "b" }] },
        { role: "user", content: "q2" },
      ]),
    ).toEqual({
      question: "q2",
      context: {
        instructions: ["a", "b"],
        turns: [
          { role: "user", content: "q1" },
          { role: "assistant", content: "a1" },
        ],
      },
    });
    expect(conversationOf([{ role: "user", content: "q" }])).toEqual({ question: "q" });
    expect(() =>
      conversationOf([
        { role: "user", content: "q" },
        { role: "tool", content: "x" },
      ]),
    ).toThrow(/messages\[1\]\.role: tool messages/);
    expect(() =>
      conversationOf([
        { role: "assistant", content: "", tool_calls: [{}] },
        { role: "user", content: "q" },
      ]),
    ).toThrow(/messages\[0\]\.tool_calls/);
  });
});

describe("stop sequences, choices and cancelled calls", () => {
  it("a sample ends at the first stop sequence", () => {
    const cut = cutAtStop(
      {
        completions: [{ text: "a b STOP c END", finishReason: "length" }],
        usage: { promptTokens: 1, completionTokens: 1 },
      },
      ["END", "STOP"],
    );
    expect(cut.completions[0]).toEqual({ text: "a b ", finishReason: "stop" });
  });

  it("n choices always arrive, with text even without an extracted answer", () => {
    const outcome = {
      answer: null,
      solution: null,
      confidence: 0,
      candidates: [
        { steps: ["x"], answer: null, score: 0.2 },
        { steps: ["y"], answer: null, score: 0.9 },
      ],
    };
    const choices = topChoices(outcome, 3);
    expect(choices.map((c) => c.content)).toEqual(["y", "x", "y"]);
    expect(choices.every((c) => c.answer === null)).toBe(true);
    expect(topChoices(undefined, 2)).toEqual([
      { answer: null, content: "" },
      { answer: null, content: "" },
    ]);
  });

  it("a cancelled call is aborted in flight, reported as possibly billed, and not retried", async () => {
    const controller = new AbortController();
    let calls = 0;
    const unread: string[] = [];
    const slow: typeof fetch = (_url, init) => {
      calls += 1;
      return new Promise((_, reject) =>
        init?.signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError"))),
      );
    };
    setTimeout(() => controller.abort(), 50);
    const began = Date.now();
    const err = await postJson(
      "http://provider.test/v1/completions",
      {},
      "provider p",
      { timeoutMs: 10_000, retries: 3, backoffBaseMs: 1, backoffMaxMs: 1, fetch: slow },
      { signal: controller.signal, billedUnread: (d) => unread.push(d) },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as Error).message).toMatch(/cancelled/);
    expect(Date.now() - began).toBeLessThan(1000);
    expect(calls).toBe(1);
    expect(unread).toHaveLength(1);
  });
});
