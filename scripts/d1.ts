/** SQL against the service's D1 database through wrangler: the local one (default) or the deployed one. */
import { spawnSync } from "node:child_process";
import type { NewKey } from "../src/auth/apiKey";

export interface D1Target {
  remote?: boolean;
  /** A local state folder other than wrangler's default (.wrangler/state). */
  persistTo?: string;
}

const ENV = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" };

export function d1<T>(sql: string, target: D1Target = {}): T[] {
  const args = ["wrangler", "d1", "execute", "DB", target.remote ? "--remote" : "--local", "--json", "--command", sql];
  if (target.persistTo && !target.remote) args.push("--persist-to", target.persistTo);
  const out = spawnSync("npx", args, { env: ENV, encoding: "utf8" });
  if (out.status !== 0) throw new Error(`wrangler d1 execute failed: ${(out.stderr || out.stdout).trim()}`);
  return (JSON.parse(out.stdout) as { results: T[] }[]).flatMap((r) => r.results);
}

/** A SQL literal: strings quoted with quotes doubled, finite numbers as they are. */
export function lit(value: string | number | null): string {
  if (value === null) return "NULL";
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`not a finite number: ${value}`);
    return String(value);
  }
  return `'${value.replace(/'/g, "''")}'`;
}

export function insertSql(table: string, row: Record<string, string | number | null>): string {
  const cols = Object.keys(row);
  return `INSERT INTO ${table} (${cols.join(", ")}) VALUES (${cols.map((c) => lit(row[c]!)).join(", ")})`;
}

/** The INSERT of an API key's row (only its hash is stored). */
export function insertKeySql(r: NewKey["row"]): string {
  return insertSql("api_keys", {
    id: r.id,
    tenant_id: r.tenantId,
    name: r.name,
    hash: r.hash,
    prefix: r.prefix,
    rate_per_minute: r.ratePerMinute,
    tokens_per_day: r.tokensPerDay,
    money_per_day: r.moneyPerDay,
    default_solve_tokens: r.defaultSolveTokens,
    default_solve_money: r.defaultSolveMoney,
    created_at: r.createdAt,
  });
}
