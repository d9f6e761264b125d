/**
 * The AI SDK's default OpenAI provider (`openai(model)` speaks the Responses API) against ttc-edge, unchanged
 * but for the base URL and key: generateText with a system prompt and a reasoning effort, then streamText.
 */
import { createOpenAI } from "@ai-sdk/openai";
import { generateText, streamText } from "ai";

const baseURL = `${process.env.TTC_URL ?? "http://127.0.0.1:8787"}/v1`;
const openai = createOpenAI({ baseURL, apiKey: process.env.TTC_KEY });
const PROBLEM = "Start with 48. Add 17. Multiply by 6. Subtract 129. Divide by 3. What is the final number?";

const generated = await generateText({
  model: openai("ttc-best-of-n"),
  system: "You are a careful math tutor.",
  prompt: PROBLEM,
  providerOptions: { openai: { reasoningEffort: "low" } },
});
console.log(`ai-sdk generateText: ${JSON.stringify(generated.text.split("\n").at(-1))}`);
console.log(`ai-sdk usage: ${JSON.stringify(generated.usage)}`);

const streamed = streamText({
  model: openai("ttc-beam-search"),
  prompt: PROBLEM,
  providerOptions: { openai: { reasoningEffort: "low" } },
});
let text = "";
for await (const delta of streamed.textStream) text += delta;
console.log(`ai-sdk streamText: ${JSON.stringify(text.split("\n").at(-1))} (finish: ${await streamed.finishReason})`);
