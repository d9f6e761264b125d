/**
 * npm run bench:api -- [--requests N] [--solves N] [--concurrency LIST] [--out DIR]
 *
 * The cost of the public API layer, measured in one run against `wrangler dev` (local workerd, local D1 and
 * Durable Objects, the simulated world in process, a fresh database with one seeded key):
 *
 * - requests per second and p50/p95 latency of an unauthenticated no-op (GET /healthz) and of an
 *   authenticated one (GET /v1/models: key lookup in D1 and the rate limit in the key's Durable Object);
 * - the same for a sync best-of-N 16 solve through POST /v1/solves and through POST /v1/chat/completions
 *   (model ttc-best-of-n, reasoning_effort medium = N 16), each with its reservation against the key's caps.
 *
 * Each pair runs in alternating rounds, so drift on a shared machine hits both sides alike.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { command, intArg, runMain } from "./cli";
import { freePort, freshState, quantile, seedKey, signalWorker, startWorker } from "./localService";

export const benchApiCommand = command({
  name: "bench:api",
  summary: "The cost of the API layer: GET /healthz against GET /v1/models, and POST /v1/solves against chat.",
  options: {
    requests: { type: "string", arg: "N", help: "requests per light-route measurement (default 2000)" },
    solves: { type: "string", arg: "N", help: "solves per measurement (default 100)" },
    concurrency: { type: "string", arg: "LIST", help: "concurrencies, comma-separated (default 1,16)" },
    rounds: { type: "string", arg: "N", help: "alternating rounds per pair (default 4)" },
    out: { type: "string", arg: "DIR", help: "where bench-api.json is written (default out/bench-api)" },
  },
  run(values) {
    REQUESTS = intArg("requests", values.requests, 2000, 1);
    SOLVES = intArg("solves", values.solves, 100, 1);
    CONCURRENCY = (values.concurrency ?? "1,16").split(",").map((c) => intArg("concurrency", c.trim(), 1, 1));
    ROUNDS = intArg("rounds", values.rounds, 4, 1);
    OUT = values.out ?? "out/bench-api";
    return main();
  },
});
let REQUESTS = 2000;
let SOLVES = 100;
let CONCURRENCY = [1, 16];
let ROUNDS = 4;
let OUT = "out/bench-api";
const PROBLEM = "Start with 48. Add 17. Multiply by 6. Subtract 129. Divide by 3. What is the final number?";

type Call = (i: number) => Promise<void>;

interface Measured {
  rps: number;
  p50: number;
  p95: number;
  n: number;
}

/** `total` calls by `concurrency` clients: latencies and the wall time of the whole. */
async function run(call: Call, concurrency: number, total: number): Promise<{ latencies: number[]; wallMs: number }> {
  let next = 0;
  const latencies: number[] = [];
  const began = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const t = performance.now();
        await call(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { latencies, wallMs: performance.now() - began };
}

/** Alternate rounds of `a` and `b`, pooling each side's latencies and wall time. */
async function pair(a: Call, b: Call, concurrency: number, total: number): Promise<[Measured, Measured]> {
  const sides = [
    { call: a, latencies: [] as number[], wallMs: 0, n: 0 },
    { call: b, latencies: [] as number[], wallMs: 0, n: 0 },
  ];
  const perRound = Math.max(concurrency, Math.ceil(total / ROUNDS));
  for (let r = 0; r < ROUNDS; r++) {
    for (const side of r % 2 === 0 ? sides : [...sides].reverse()) {
      const got = await run(side.call, concurrency, perRound);
      side.latencies.push(...got.latencies);
      side.wallMs += got.wallMs;
      side.n += perRound;
    }
  }
  const summary = (s: (typeof sides)[number]): Measured => ({
    rps: s.n / (s.wallMs / 1000),
    p50: quantile(s.latencies, 0.5),
    p95: quantile(s.latencies, 0.95),
    n: s.n,
  });
  return [summary(sides[0]!), summary(sides[1]!)];
}

async function main(): Promise<void> {
  const persist = freshState();
  const key = await seedKey(persist);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const auth = { authorization: `Bearer ${key}` };
  const worker = await startWorker(port, persist, undefined);
  const expect = async (res: Response, status: number, what: string) => {
    const text = await res.text();
    if (res.status !== status) throw new Error(`${what}: HTTP ${res.status} ${text.slice(0, 300)}`);
    return text;
  };
  const healthz: Call = async () => void (await expect(await fetch(`${base}/healthz`), 200, "healthz"));
  const models: Call = async () =>
    void (await expect(await fetch(`${base}/v1/models`, { headers: auth }), 200, "models"));
  const viaSolves: Call = async (i) => {
    const text = await expect(
      await fetch(`${base}/v1/solves`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify({
          prompt: PROBLEM,
          strategy: { strategy: "best-of-n", n: 16 },
          mode: "sync",
          seed: 1000 + i,
        }),
      }),
      200,
      "solve",
    );
    if ((JSON.parse(text) as { stopReason?: string }).stopReason !== "complete")
      throw new Error(`solve did not complete: ${text.slice(0, 300)}`);
  };
  const viaChat: Call = async (i) => {
    const text = await expect(
      await fetch(`${base}/v1/chat/completions`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify({
          model: "ttc-best-of-n",
          reasoning_effort: "medium",
          messages: [{ role: "user", content: PROBLEM }],
          seed: 1000 + i,
        }),
      }),
      200,
      "chat",
    );
    if ((JSON.parse(text) as { choices?: { finish_reason: string }[] }).choices?.[0]?.finish_reason !== "stop")
      throw new Error(`chat did not finish: ${text.slice(0, 300)}`);
  };
  const results: Record<string, unknown> = { requests: REQUESTS, solves: SOLVES, rounds: ROUNDS, problem: PROBLEM };
  const lines: string[] = [];
  const fmt = (m: Measured) => `${m.rps.toFixed(0)} req/s, p50 ${m.p50.toFixed(1)} ms, p95 ${m.p95.toFixed(1)} ms`;
  try {
    // Warm up: the isolate, the key's quota object, the database.
    for (let i = 0; i < 20; i++) await Promise.all([healthz(i), models(i)]);
    await viaSolves(0);
    await viaChat(0);
    for (const c of CONCURRENCY) {
      const [h, m] = await pair(healthz, models, c, REQUESTS);
      results[`noop c=${c}`] = { healthz: h, models: m, ratio: h.rps / m.rps };
      lines.push(
        `no-op, concurrency ${c}: GET /healthz ${fmt(h)}; authenticated GET /v1/models ${fmt(m)}; throughput ratio ${(h.rps / m.rps).toFixed(2)}`,
      );
      const [s, ch] = await pair(viaSolves, viaChat, c, SOLVES);
      results[`best-of-n 16 sync c=${c}`] = { solves: s, chat: ch, ratio: s.rps / ch.rps };
      lines.push(
        `best-of-N 16 sync, concurrency ${c}: POST /v1/solves ${fmt(s)}; POST /v1/chat/completions ${fmt(ch)}; throughput ratio ${(s.rps / ch.rps).toFixed(2)}`,
      );
    }
  } finally {
    signalWorker(worker);
  }
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, "bench-api.json"), JSON.stringify(results, null, 1) + "\n");
  process.stdout.write(lines.join("\n") + "\n");
}

runMain(import.meta.url, benchApiCommand);
