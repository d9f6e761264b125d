/**
 * npm run crash-test -- [--kills N] [--solves N] [--no-replay] [--policy NAME]
 *
 * Kills the service with `kill -9` at random moments while solves run, restarts it, and checks that every
 * solve finishes and that what the solves report spending is what the providers billed.
 *
 * The simulated world is served over HTTP by this process (with latency, so calls are in flight when the
 * service dies) and counts the tokens it billed. `wrangler dev` (local workerd, D1 and Durable Objects,
 * persisted to a temporary folder) runs the solves against it and is killed with its whole process group.
 *
 * - By default the provider replays repeated Idempotency-Keys and is configured as doing so: a call lost in a
 *   crash is made again under the same id and billed once, so reported spend must EQUAL billed tokens.
 * - With --no-replay it does not: a lost call is charged at its worst case, so reported spend must be AT
 *   LEAST the billed tokens (never less: the caps see everything billed).
 *
 * - With --policy NAME (a shipped policy, e.g. `default`, which probes first) the service runs with POLICY =
 *   NAME and every other solve is `auto`: under a probing policy the kills also land in the probe and between
 *   the probe and the arm it chooses.
 *
 * Exit 0 when every check holds, 1 otherwise. Bounded: at most --kills kills and a few minutes of waiting.
 */
import { loadWorld } from "../src/eval/io";
import { generateProblems } from "../src/sim/problems";
import { command, intArg, runMain } from "./cli";
import { freePort, freshState, queryLocalD1, seedKey, signalWorker, startSim, startWorker } from "./localService";

export const crashTestCommand = command({
  name: "crash-test",
  summary: `Kills the service with kill -9 at random moments while solves run, restarts it, and checks that every
solve finishes and that what the solves report spending is what the providers billed. Exit 1 if a check fails.`,
  options: {
    kills: { type: "string", arg: "N", help: "kills at the most (default 20)" },
    solves: { type: "string", arg: "N", help: "solves in flight (default 4)" },
    "no-replay": { type: "boolean", help: "the provider does not replay repeated Idempotency-Keys" },
    policy: { type: "string", arg: "NAME", help: "run the service with this shipped policy; every other solve auto" },
  },
  run(values) {
    POLICY = values.policy;
    KILLS = intArg("kills", values.kills, 20, 1);
    CONCURRENT = intArg("solves", values.solves, 4, 1);
    REPLAY = !values["no-replay"];
    return main();
  },
});
let POLICY: string | undefined;
let KILLS = 20;
let CONCURRENT = 4;
let REPLAY = true;

const world = loadWorld();
const problems = generateProblems(world, 7, 200).map((p) => p.problem);
const STRATEGIES = [
  { strategy: "beam-search", n: 8, width: 4 },
  { strategy: "best-of-n", n: 8 },
  { strategy: "revisions", sequential: 3, parallel: 2 },
  { strategy: "dvts", n: 8, width: 2 },
];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface View {
  id: string;
  status: string;
  stopReason?: string;
  spend: { tokens: number; money: number };
  policy?: { state: string; estimator: string };
}

async function main(): Promise<number> {
  const sim = await startSim(world, { latency: { perCallMs: 120, perTokenMs: 0.2 }, replay: REPLAY });
  const card = {
    parameters: 3e9,
    inputPricePerMillion: 0.1,
    outputPricePerMillion: 0.2,
    timeoutMs: 20_000,
    retries: 2,
    replaysRequests: REPLAY,
  };
  const providers = {
    generator: { kind: "openai-completions", baseUrl: sim.base, model: "sim-base", ...card },
    reviser: { kind: "openai-completions", baseUrl: sim.base, model: "sim-reviser", ...card },
    verifier: { kind: "vllm-prm", baseUrl: sim.base, model: "sim-prm", ...card, parameters: 7e9 },
  };
  const persist = freshState();
  const auth = { authorization: `Bearer ${await seedKey(persist)}` };
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const vars: Record<string, string> = POLICY === undefined ? {} : { POLICY };
  let worker = await startWorker(port, persist, providers, vars);
  const ids: string[] = [];
  let next = 0;
  const startSolve = async (): Promise<void> => {
    const i = next++;
    const res = await fetch(`${base}/v1/solves`, {
      method: "POST",
      headers: { "content-type": "application/json", ...auth },
      // With --policy, every other solve is auto (a cap that affords a probe of 8 and an arm after it).
      body: JSON.stringify(
        POLICY !== undefined && i % 2 === 1
          ? {
              prompt: problems[i % problems.length],
              strategy: { strategy: "auto" },
              budget: { tokens: 60_000 },
              seed: i,
            }
          : { prompt: problems[i % problems.length], strategy: STRATEGIES[i % STRATEGIES.length], seed: i },
      ),
    });
    if (res.status !== 202) throw new Error(`starting a solve: HTTP ${res.status} ${await res.text()}`);
    ids.push(((await res.json()) as View).id);
  };
  const status = async (id: string): Promise<View | undefined> => {
    try {
      return (await (await fetch(`${base}/v1/solves/${id}`, { headers: auth })).json()) as View;
    } catch {
      return undefined;
    }
  };

  try {
    for (let k = 0; k < KILLS; k++) {
      // Keep CONCURRENT solves running, then kill at a random moment of their steps.
      const running = (await Promise.all(ids.map(status))).filter((v) => v?.status === "running").length;
      for (let j = running; j < CONCURRENT; j++) await startSolve();
      await sleep(150 + Math.random() * 1200);
      signalWorker(worker, "SIGKILL");
      process.stdout.write(`kill ${k + 1}/${KILLS} (${ids.length} solves started)\n`);
      await sleep(200);
      worker = await startWorker(port, persist, providers, vars);
    }
    // Every solve must finish by itself after the last restart.
    const until = Date.now() + 180_000;
    let views: (View | undefined)[] = [];
    while (Date.now() < until) {
      views = await Promise.all(ids.map(status));
      if (views.every((v) => v?.status === "done")) break;
      await sleep(500);
    }
    const unfinished = views.filter((v) => v?.status !== "done").length;
    const reported = views.reduce((t, v) => t + (v?.spend.tokens ?? 0), 0);
    const stats = await sim.stats();
    // D1 holds every provider call of every solve once; their sum is the solves' spend.
    const [row] = queryLocalD1<{ solves: number; tokens: number }>(
      persist,
      "SELECT COUNT(DISTINCT solve_id) AS solves, SUM(prompt_tokens + completion_tokens) AS tokens FROM provider_calls",
    );
    // The key's quota: every solve settled (nothing reserved) and charged exactly what it reports.
    let usage = { tokens: { spent: -1, reserved: -1 } };
    for (let i = 0; i < 60; i++) {
      usage = (await (await fetch(`${base}/v1/usage`, { headers: auth })).json()) as typeof usage;
      if (usage.tokens.reserved === 0) break;
      await sleep(500);
    }
    const reasons = new Map<string, number>();
    for (const v of views) reasons.set(v?.stopReason ?? "?", (reasons.get(v?.stopReason ?? "?") ?? 0) + 1);
    process.stdout.write(
      [
        `provider ${REPLAY ? "replays repeated request ids" : "does not replay request ids"}; ${KILLS} kills; ${ids.length} solves; stop reasons ${JSON.stringify(Object.fromEntries(reasons))}`,
        `unfinished solves: ${unfinished}`,
        ...(POLICY !== undefined
          ? [
              `auto solves (POLICY ${POLICY}): ${views.filter((v) => v?.policy).length}, of which ${views.filter((v) => v?.policy?.state === "decided" && v.policy.estimator === "probe").length} chose after their probe`,
            ]
          : []),
        `tokens reported by the solves: ${reported}; billed by the provider: ${stats.billedTokens} (${stats.served} requests served, ${stats.replayed} replayed)`,
        `provider_calls in D1: ${row?.tokens} tokens over ${row?.solves} solves`,
        `charged to the key's daily quota: ${usage.tokens.spent} tokens, ${usage.tokens.reserved} still reserved`,
      ].join("\n") + "\n",
    );
    const ok =
      unfinished === 0 &&
      (REPLAY ? reported === stats.billedTokens : reported >= stats.billedTokens) &&
      row?.tokens === reported &&
      usage.tokens.spent === reported &&
      usage.tokens.reserved === 0;
    process.stdout.write(ok ? "crash test: holds\n" : "crash test: FAILS\n");
    return ok ? 0 : 1;
  } finally {
    signalWorker(worker);
    await sim.close();
  }
}

runMain(import.meta.url, crashTestCommand);
