/**
 * The service and the simulated world on this machine, for benchmarks and crash tests: the simulated world
 * served over HTTP by the calling process, and `wrangler dev` (local workerd, D1 and Durable Objects)
 * persisted to a folder of its own, in its own process group so that it can be stopped or killed whole.
 */
import { serve } from "@hono/node-server";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { World } from "../src/sim/world";
import { createSimServer, type SimServerOptions } from "../src/sim/server";
import { newKey } from "../src/auth/apiKey";
import { d1, insertKeySql, insertSql } from "./d1";

const ENV = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" };

export interface SimStats {
  served: number;
  replayed: number;
  billedTokens: number;
  busyMs: number;
}

export async function startSim(world: World, options: SimServerOptions) {
  const app = createSimServer(world, options);
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const stats = async (): Promise<SimStats> => (await (await fetch(`${base}/_sim/stats`)).json()) as SimStats;
  return { base, stats, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** The q-quantile of a sample (the nearest rank below), for the benchmarks' p50 and p95. */
export const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};

/** A port nothing listens on now (the OS picks it). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** Signal wrangler dev and everything it started. */
export function signalWorker(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** A fresh folder for local D1 and Durable Objects, with the migrations applied. */
export function freshState(): string {
  const persist = mkdtempSync(join(tmpdir(), "ttc-local-"));
  const migrate = spawnSync(
    "npx",
    ["wrangler", "d1", "migrations", "apply", "DB", "--local", "--persist-to", persist],
    { env: ENV, encoding: "utf8" },
  );
  if (migrate.status !== 0) throw new Error(`migrations failed: ${migrate.stderr}`);
  return persist;
}

/** Start `wrangler dev` on `port` with PROVIDERS set (undefined: the default, the simulated world in process), and wait until it answers. */
/** `vars`: more Worker vars for this run (e.g. `POLICY`). */
export async function startWorker(
  port: number,
  persist: string,
  providers: unknown,
  more: Record<string, string> = {},
): Promise<ChildProcess> {
  const vars = [
    ...(providers === undefined ? [] : ["--var", `PROVIDERS:${JSON.stringify(providers)}`]),
    ...Object.entries(more).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
  ];
  const child = spawn(
    "npx",
    // --local: the [ai] binding is remote-only, and measurements stay on this machine.
    ["wrangler", "dev", "--local", "--port", String(port), "--persist-to", persist, ...vars, "--log-level", "error"],
    {
      env: ENV,
      stdio: ["ignore", "ignore", "inherit"],
      detached: true,
    },
  );
  let exited = false;
  child.once("exit", () => (exited = true));
  for (let i = 0; i < 600; i++) {
    if (exited) throw new Error("wrangler dev exited before it was ready");
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return child;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  signalWorker(child, "SIGKILL");
  throw new Error("wrangler dev did not start");
}

/** Sum of a query over the local D1 database. */
export function queryLocalD1<T>(persist: string, sql: string): T[] {
  const out = spawnSync(
    "npx",
    ["wrangler", "d1", "execute", "DB", "--local", "--persist-to", persist, "--json", "--command", sql],
    { env: ENV, encoding: "utf8" },
  );
  if (out.status !== 0) throw new Error(`d1 query failed: ${out.stderr}`);
  return (JSON.parse(out.stdout) as { results: T[] }[])[0]?.results ?? [];
}

/** A tenant and an API key with generous limits in the local D1 at `persist`; returns the key. */
export async function seedKey(persist: string): Promise<string> {
  const made = await newKey("ten_local", "local", {
    ratePerMinute: 1_000_000,
    tokensPerDay: 1e12,
    moneyPerDay: 1e9,
    defaultSolveTokens: 1e9,
    defaultSolveMoney: 1e6,
  });
  const r = made.row;
  d1([insertSql("tenants", { id: "ten_local", name: "local", created_at: r.createdAt }), insertKeySql(r)].join("; "), {
    persistTo: persist,
  });
  return made.key;
}
