/**
 * LangChain's ChatOpenAI (chat completions) against ttc-edge, unchanged but for the base URL and key: a system
 * prompt with history, then a stream.
 */
import { AIMessage, HumanMessage, SystemMessage } from "@langchain/core/messages";
import { ChatOpenAI } from "@langchain/openai";

const model = new ChatOpenAI({
  model: "ttc-best-of-n",
  apiKey: process.env.TTC_KEY,
  configuration: { baseURL: `${process.env.TTC_URL ?? "http://127.0.0.1:8787"}/v1` },
  reasoning: { effort: "low" },
  maxRetries: 0,
});
const PROBLEM = "Start with 48. Add 17. Multiply by 6. Subtract 129. Divide by 3. What is the final number?";

const answer = await model.invoke([
  new SystemMessage("You are a careful math tutor."),
  new HumanMessage("Start with 2. Add 3. What is the final number?"),
  new AIMessage("2 + 3 = 5. The final answer is $\\boxed{5}$."),
  new HumanMessage(PROBLEM),
]);
console.log(`langchain invoke: ${JSON.stringify(String(answer.content).split("\n").at(-1))}`);
console.log(`langchain usage: ${JSON.stringify(answer.usage_metadata)}`);

let streamed = "";
for await (const chunk of await model.stream([new HumanMessage(PROBLEM)])) streamed += String(chunk.content);
console.log(`langchain stream: ${JSON.stringify(streamed.split("\n").at(-1))}`);
