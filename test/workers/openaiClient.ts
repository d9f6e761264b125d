/** The official `openai` SDK pointed at the Worker under test (SELF), and a solve's view, for the OpenAI tests. */
import { SELF } from "cloudflare:test";
import OpenAI from "openai";
import type { SolveView } from "../../src/api/schemas";

export function openaiClient(key: string): OpenAI {
  return new OpenAI({
    apiKey: key,
    baseURL: "https://ttc.test/v1",
    maxRetries: 0,
    fetch: (url: RequestInfo | URL, init?: RequestInit) => SELF.fetch(url instanceof Request ? url : String(url), init),
  });
}

export async function solveViewOf(headers: Record<string, string>, id: string): Promise<SolveView> {
  return (await (await SELF.fetch(`https://ttc.test/v1/solves/${id}`, { headers })).json()) as SolveView;
}
