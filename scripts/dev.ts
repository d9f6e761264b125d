/**
 * npm run dev: the service on http://localhost:8787 with nothing to configure. Applies the local D1
 * migrations, makes sure a development tenant and API key exist in the local database (kept in
 * .wrangler/dev-key.json so it stays the same across restarts), prints the key, and runs `wrangler dev`
 * with a development admin secret, webhooks allowed to reach this machine over plain http, and room for 1000
 * open event streams per key.
 * Extra arguments go to wrangler dev; `--persist-to DIR` also picks the database that is migrated and seeded.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { generateApiKey, hashApiKey, keyPrefix, DEFAULT_KEY_LIMITS } from "../src/auth/apiKey";
import { d1, insertSql, lit } from "./d1";

const ENV = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" };
const FILE = ".wrangler/dev-key.json";

const args = process.argv.slice(2);
const persistAt = args.indexOf("--persist-to");
const persistTo = persistAt >= 0 ? args[persistAt + 1] : undefined;
const target = persistTo ? { persistTo } : {};

const migrate = spawnSync(
  "npx",
  ["wrangler", "d1", "migrations", "apply", "DB", "--local", ...(persistTo ? ["--persist-to", persistTo] : [])],
  { env: ENV, stdio: "inherit" },
);
if (migrate.status !== 0) process.exit(migrate.status ?? 1);

mkdirSync(".wrangler", { recursive: true });
const dev: { key: string; adminSecret: string } = existsSync(FILE)
  ? (JSON.parse(readFileSync(FILE, "utf8")) as { key: string; adminSecret: string })
  : { key: generateApiKey(), adminSecret: `dev-admin-${crypto.randomUUID()}` };
writeFileSync(FILE, JSON.stringify(dev, null, 1) + "\n", { mode: 0o600 });

const hash = await hashApiKey(dev.key);
if (d1(`SELECT id FROM api_keys WHERE hash = ${lit(hash)} AND revoked_at IS NULL`, target).length === 0) {
  const now = Date.now();
  const tenant = d1<{ id: string }>("SELECT id FROM tenants WHERE id = 'ten_dev'", target).length
    ? []
    : [insertSql("tenants", { id: "ten_dev", name: "development", created_at: now })];
  const L = DEFAULT_KEY_LIMITS;
  const key = insertSql("api_keys", {
    id: `key_dev_${crypto.randomUUID()}`,
    tenant_id: "ten_dev",
    name: "development",
    hash,
    prefix: keyPrefix(dev.key),
    rate_per_minute: 6000,
    tokens_per_day: 100 * L.tokensPerDay,
    money_per_day: 100 * L.moneyPerDay,
    default_solve_tokens: L.defaultSolveTokens,
    default_solve_money: L.defaultSolveMoney,
    created_at: now,
  });
  d1([...tenant, key].join("; "), target);
}

process.stdout.write(
  `\nDevelopment API key (tenant ten_dev; kept in ${FILE}):\n\n  export TTC_KEY=${dev.key}\n\n` +
    `Admin secret for /admin routes in development: ${dev.adminSecret}\n` +
    `curl -s localhost:8787/v1/usage -H "Authorization: Bearer $TTC_KEY"\n\n`,
);

const child = spawn(
  "npx",
  [
    "wrangler",
    "dev",
    "--var",
    `ADMIN_SECRET:${dev.adminSecret}`,
    "--var",
    "WEBHOOKS_ALLOW_LOCAL:true",
    // Room for the 200-stream benchmark (npm run bench:streams); deployed, wrangler.toml's cap applies.
    "--var",
    "EVENT_STREAMS_PER_KEY:1000",
    ...args,
  ],
  { env: ENV, stdio: "inherit" },
);
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
child.on("exit", (code) => process.exit(code ?? 0));
