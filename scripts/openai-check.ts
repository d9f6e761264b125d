/**
 * npm run check:openai: issue 18's "Done when" check against a running service, driven by the latest
 * `openai` SDK (TTC_URL, default http://127.0.0.1:8787; TTC_KEY; SIM_URL, the HTTP sim the service's
 * PROVIDERS point at, for its billing counter). Prints one line per check and exits 1 if any failed.
 */
import OpenAI from "openai";

const base = process.env.TTC_URL ?? "http://127.0.0.1:8787";
const sim = process.env.SIM_URL;
const client = new OpenAI({ apiKey: process.env.TTC_KEY, baseURL: `${base}/v1`, maxRetries: 0 });
const PROBLEM = "Start with 48. Add 17. Multiply by 6. Subtract 129. Divide by 3. What is the final number?";
const HARD =
  "Start with 7396. Multiply by 487. Subtract 9175. Multiply by 63. Take the remainder when divided by 97. Add 3881. Multiply by 29. What is the final number?";
let failed = 0;

async function check(name: string, run: () => Promise<string>): Promise<void> {
  const began = Date.now();
  try {
    console.log(`ok   ${name}: ${await run()} (${Date.now() - began} ms)`);
  } catch (err) {
    failed += 1;
    console.log(`FAIL ${name}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function assert(ok: unknown, message: string): void {
  if (!ok) throw new Error(message);
}

const last = (text: string | null | undefined) => JSON.stringify((text ?? "").split("\n").at(-1));
const billed = async (): Promise<number> =>
  sim ? ((await (await fetch(`${sim}/_sim/stats`)).json()) as { billedTokens: number }).billedTokens : NaN;

await check("system prompt + history with every parameter a stock app sends", async () => {
  const { data, response } = await client.chat.completions
    .create({
      model: "ttc-auto",
      messages: [
        { role: "system", content: "You are a careful assistant." },
        { role: "user", content: "Start with 2. Add 3. What is the final number?" },
        { role: "assistant", content: "2 + 3 = 5. The final answer is $\\boxed{5}$." },
        { role: "user", content: PROBLEM },
      ],
      stop: null,
      temperature: 0.7,
      top_p: 1,
      frequency_penalty: 0,
      presence_penalty: 0,
      logit_bias: null,
      service_tier: "auto",
      ...({ parallel_tool_calls: null } as object),
      user: "check-user",
      reasoning_effort: "low",
    })
    .withResponse();
  assert(data.choices[0]?.message.content, "content is empty");
  return `${last(data.choices[0]!.message.content)}; x-ttc-ignored-params: ${response.headers.get("x-ttc-ignored-params")}; x-ratelimit-remaining-requests: ${response.headers.get("x-ratelimit-remaining-requests")}`;
});

for (const effort of ["none", "minimal", "xhigh"] as const) {
  await check(`reasoning_effort ${effort} with a developer message`, async () => {
    const res = await client.chat.completions.create({
      model: "ttc-best-of-n",
      messages: [
        { role: "developer", content: "Put the final answer in \\boxed{}." },
        { role: "user", content: PROBLEM },
      ],
      reasoning_effort: effort,
      ...({ ttc: { budget: { deadlineMs: 120_000 } } } as object),
    });
    const ttc = (res as unknown as { ttc: { answer: string | null; spend: { generations: number } } }).ttc;
    return `answer ${ttc.answer}, ${ttc.spend.generations} generations`;
  });
}

await check("stream helper with n: 2", async () => {
  const final = await client.chat.completions
    .stream({
      model: "ttc-best-of-n",
      messages: [{ role: "user", content: PROBLEM }],
      n: 2,
      reasoning_effort: "low",
      stream_options: { include_usage: true },
    })
    .finalChatCompletion();
  assert(final.choices.length === 2, `${final.choices.length} choices`);
  return `finish_reasons ${final.choices.map((c) => c.finish_reason).join(",")}; ${final.usage?.total_tokens} tokens`;
});

await check("Responses API: plain", async () => {
  const res = await client.responses.create({
    model: "ttc-best-of-n",
    input: PROBLEM,
    instructions: "Show your steps.",
    reasoning: { effort: "low" },
  });
  return `${res.status} ${last(res.output_text)}; reasoning_tokens ${res.usage?.output_tokens_details.reasoning_tokens}`;
});

await check("Responses API: streamed", async () => {
  const stream = client.responses.stream({ model: "ttc-best-of-n", input: PROBLEM, reasoning: { effort: "low" } });
  const types: string[] = [];
  for await (const e of stream) types.push(e.type);
  const final = await stream.finalResponse();
  return `${types[0]} … ${types.at(-1)} (${types.length} events); ${final.status} ${last(final.output_text)}`;
});

await check("Responses API: background, polled with retrieve", async () => {
  let res = await client.responses.create({
    model: "ttc-beam-search",
    input: PROBLEM,
    background: true,
    reasoning: { effort: "low" },
  });
  const first = res.status;
  let polls = 0;
  while (res.status === "in_progress" || res.status === "queued") {
    await new Promise((r) => setTimeout(r, 500));
    res = await client.responses.retrieve(res.id);
    polls += 1;
  }
  return `${first} → ${res.status} after ${polls} polls; ${last(res.output_text)}`;
});

await check("a non-streamed beam search aborted after 3 s: the providers bill nothing more", async () => {
  const controller = new AbortController();
  const request = client.chat.completions
    .create(
      { model: "ttc-beam-search", messages: [{ role: "user", content: HARD }], reasoning_effort: "high" },
      { signal: controller.signal },
    )
    .then(
      () => "answered",
      (e: unknown) => (e instanceof OpenAI.APIUserAbortError ? "aborted" : String(e)),
    );
  await new Promise((r) => setTimeout(r, 3000));
  const before = await billed();
  controller.abort();
  const outcome = await request;
  await new Promise((r) => setTimeout(r, 1500));
  const settled = await billed();
  await new Promise((r) => setTimeout(r, 5000));
  const after = await billed();
  assert(after === settled, `the providers billed ${after - settled} more tokens after the cancel settled`);
  return `client ${outcome}; sim billed ${before} tokens at the abort, ${settled} once settled, ${after} 5 s later`;
});

await check("400 in OpenAI's error shape on /v1/chat/completions, /v1/solves and /v1/responses", async () => {
  const out: string[] = [];
  for (const [path, body] of [
    ["/v1/chat/completions", { model: "ttc-best-of-n", messages: [{ role: "tool", content: "x" }] }],
    ["/v1/solves", { prompt: 5 }],
    ["/v1/responses", { model: "ttc-best-of-n", input: [{ type: "function_call_output", output: "x" }] }],
  ] as const) {
    const res = await fetch(`${base}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${process.env.TTC_KEY}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const err = ((await res.json()) as { error: Record<string, unknown> }).error;
    assert(res.status === 400, `${path}: ${res.status}`);
    assert(Object.keys(err).sort().join() === "code,message,param,type", `${path}: keys ${Object.keys(err).join(",")}`);
    out.push(`${path} ${res.status} ${JSON.stringify(err)}`);
  }
  return out.join("; ");
});

await check("CORS preflight allowed for the configured origin only", async () => {
  const pre = (origin: string) =>
    fetch(`${base}/v1/chat/completions`, {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization" },
    });
  const ok = await pre("https://app.example");
  const no = await pre("https://evil.example");
  const allowed = ok.headers.get("access-control-allow-origin");
  assert(allowed === "https://app.example", `configured origin got ${allowed}`);
  assert(no.headers.get("access-control-allow-origin") === null, "another origin was allowed");
  return `https://app.example → ${ok.status} allow-origin ${allowed}; https://evil.example → ${no.status} allow-origin ${no.headers.get("access-control-allow-origin")}`;
});

process.exit(failed > 0 ? 1 : 0);
