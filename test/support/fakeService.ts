/**
 * A stand-in for the service over real HTTP, for testing the calibration and measurement clients in Node:
 * `POST /v1/solves` runs the explicit strategy with the same executor and simulated world the service uses
 * (the real service on the simulated world gives the same answer and spend for the same seed), `GET /v1/usage`
 * checks the key. Faults are scripted: the first `tooMany` solve requests answer 429 with Retry-After.
 */
import { providersFingerprint } from "../../src/wiring/fingerprint";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { startExecution } from "../../src/engine/executor";
import { runToEnd } from "../../src/engine/executeStep";
import { describeSpec, StrategySpecSchema } from "../../src/engine/strategies";
import { simProviders } from "../../src/sim/provider";
import type { World } from "../../src/sim/world";

export interface FakeService {
  base: string;
  /** Solve requests answered (not counting 429s), and 429s sent. */
  stats: { solves: number; refused: number; seeds: number[] };
  close(): Promise<void>;
}

async function bodyOf(req: IncomingMessage): Promise<unknown> {
  let text = "";
  for await (const chunk of req) text += chunk;
  return JSON.parse(text);
}

export async function startFakeService(world: World, options: { key: string; tooMany?: number }): Promise<FakeService> {
  const stats = { solves: 0, refused: 0, seeds: [] as number[] };
  let tooMany = options.tooMany ?? 0;
  const server: Server = createServer((req, res) => {
    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));
    };
    void (async () => {
      if (req.headers.authorization !== `Bearer ${options.key}`)
        return send(401, {
          error: { type: "unauthorized", message: "this API key is not valid (unknown or revoked)" },
        });
      if (req.method === "GET" && req.url === "/v1/usage") {
        const zero = { limit: 1e9, spent: 0, reserved: 0 };
        return send(200, {
          keyId: "key_fake",
          tenantId: "ten_fake",
          ratePerMinute: 6000,
          defaultSolveBudget: { tokens: 200000, money: 1 },
          day: "2026-12-02",
          tokens: zero,
          money: zero,
        });
      }
      if (req.method === "GET" && req.url === "/v1/policy") {
        // Only what the calibration client reads: the configured providers' fingerprint (the sim world here).
        return send(200, { calibration: { configured: providersFingerprint("sim", world) } });
      }
      if (req.method === "POST" && req.url === "/v1/solves") {
        if (tooMany > 0) {
          tooMany--;
          stats.refused++;
          return send(
            429,
            { error: { type: "rate_limited", message: "rate limit: retry after 0 s" } },
            { "retry-after": "0" },
          );
        }
        const body = (await bodyOf(req)) as {
          prompt: string;
          strategy: unknown;
          budget: { generations?: number };
          seed: number;
        };
        const spec = StrategySpecSchema.parse(body.strategy);
        const { providers, costs } = simProviders(world);
        const started = startExecution(
          { question: body.prompt },
          spec,
          { generations: body.budget.generations ?? 4096 },
          body.seed,
          costs,
        );
        if (!started.ok) return send(400, { error: { type: "invalid_request", message: started.error } });
        const done = await runToEnd(started.execution, providers, costs);
        stats.solves++;
        stats.seeds.push(body.seed);
        const l = done.ledger;
        return send(200, {
          id: crypto.randomUUID(),
          status: "done",
          ...(done.stopReason ? { stopReason: done.stopReason } : {}),
          strategy: describeSpec(spec),
          answer: done.outcome?.answer ?? null,
          confidence: done.outcome ? done.outcome.confidence : null,
          steps: done.steps,
          spend: {
            generations: l.generations,
            samples: l.samples,
            tokens: l.tokens,
            verifierTokens: l.verifierTokens,
            flops: l.flops,
            money: l.money,
          },
          createdAt: Date.now(),
        });
      }
      return send(404, { error: { type: "not_found", message: `no route ${req.method} ${req.url}` } });
    })().catch((err: unknown) => send(500, { error: { type: "internal", message: String(err) } }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, stats, close: () => new Promise<void>((r) => server.close(() => r())) };
}
