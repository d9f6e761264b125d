/**
 * npm run dev [-- --port N] [-- --ip ADDR] [-- any other wrangler dev option]
 *
 * The service with nothing to configure. Applies the local D1 migrations, makes sure a development tenant and
 * API key exist in the local database (kept in .wrangler/dev-key.json so it stays the same across restarts),
 * runs `wrangler dev` with a development admin secret and webhooks allowed to reach this machine over plain
 * http, waits until /healthz answers, and then prints a few lines: the URL it really listens on, the key, the
 * admin secret and where the rest is. Migrations' and wrangler's own output (banners, binding tables, request
 * logs) go to .wrangler/dev.log; what wrangler writes to stderr after it is ready (errors, warnings) is shown
 * here too, and if wrangler exits or never gets ready the log's last lines are printed.
 * Event streams: room for 1000 open streams per key (the 200-stream benchmark, npm run bench:streams).
 * `--persist-to DIR` also picks the database that is migrated and seeded.
 */
import { spawn, spawnSync } from "node:child_process";
import { closeSync, createWriteStream, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { DEFAULT_KEY_LIMITS, generateApiKey, hashApiKey, keyPrefix } from "../src/auth/apiKey";
import { parseProvidersConfig } from "../src/wiring/providers";
import { d1, insertSql, lit } from "./d1";

// No colours: wrangler's output goes to a log file that is read as text.
const ENV = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false", FORCE_COLOR: "0" };
const KEY_FILE = ".wrangler/dev-key.json";
const LOG = ".wrangler/dev.log";
/** How long wrangler may take to answer /healthz (its first start bundles the Worker and boots workerd). */
const READY_TIMEOUT_MS = 180_000;

const USAGE = `usage: npm run dev [-- --port N] [-- --ip ADDR] [-- other wrangler dev options]

Runs the service locally (wrangler dev) on the simulated world, with the local D1 migrated and a development
API key. Output of migrations and wrangler goes to ${LOG}.
`;

/** The value of `--name V` or `--name=V` among wrangler's arguments. */
function option(args: readonly string[], name: string): string | undefined {
  for (const [i, a] of args.entries()) {
    if (a === `--${name}`) return args[i + 1];
    if (a.startsWith(`--${name}=`)) return a.slice(name.length + 3);
  }
  return undefined;
}

/** What to show when wrangler fails: its error lines (they may be far above a usage text), then the log's tail. */
function logReport(file: string, lines = 20): string {
  if (!existsSync(file)) return "";
  const all = readFileSync(file, "utf8")
    .replace(/\x1b\[[0-9;]*m/g, "")
    .trimEnd()
    .split("\n");
  const errors = all.slice(0, -lines).filter((l) => l.includes("[ERROR]"));
  return [...errors.slice(0, 5), ...(errors.length ? ["…"] : []), ...all.slice(-lines)].join("\n") + "\n";
}

/** Whether something already listens there (then /healthz would answer for another server, not ours). */
function portInUse(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(true));
    srv.listen(port, host, () => srv.close(() => resolve(false)));
  });
}

function fail(message: string, code: number, showLog = false): never {
  process.stderr.write(`dev: ${message}\n`);
  if (showLog) process.stderr.write(`--- ${LOG}: its errors, then its last lines ---\n${logReport(LOG)}`);
  process.exit(code);
}

const args = process.argv.slice(2);
if (args.includes("--help") || args.includes("-h")) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const portArg = option(args, "port") ?? "8787";
if (!/^\d+$/.test(portArg) || Number(portArg) < 1 || Number(portArg) > 65535)
  fail(`--port must be a port number (1-65535), got "${portArg}"`, 2);
const port = Number(portArg);
const ip = option(args, "ip");
// wrangler dev listens on localhost unless --ip is given; 0.0.0.0 / :: are reached through the loopback.
const probeHost = !ip || ip === "0.0.0.0" || ip === "::" || ip === "*" ? "127.0.0.1" : ip;
const urlHost = !ip || ip === "0.0.0.0" || ip === "::" || ip === "*" ? "localhost" : ip.includes(":") ? `[${ip}]` : ip;
const base = `http://${urlHost}:${port}`;
const persistTo = option(args, "persist-to");

// A PROVIDERS that cannot work is refused before anything starts, naming the field and the allowed values.
const providersVar = args.find((a, i) => args[i - 1] === "--var" && a.startsWith("PROVIDERS:"));
if (providersVar !== undefined) {
  // Secrets and bindings live in wrangler, not here: only the configuration itself is checked.
  const wired = parseProvidersConfig(providersVar.slice("PROVIDERS:".length));
  if (!wired.ok) fail(wired.error, 2);
}
const target = persistTo ? { persistTo } : {};

if (await portInUse(port, probeHost))
  fail(`port ${port} on ${probeHost} is in use: stop what runs there or give --port N`, 2);

mkdirSync(".wrangler", { recursive: true });
process.stdout.write(`ttc-edge: migrating the local database and starting wrangler dev (output in ${LOG})…\n`);
const logFd = openSync(LOG, "w");
const migrate = spawnSync(
  "npx",
  ["wrangler", "d1", "migrations", "apply", "DB", "--local", ...(persistTo ? ["--persist-to", persistTo] : [])],
  { env: ENV, stdio: ["ignore", logFd, logFd] },
);
closeSync(logFd);
if (migrate.status !== 0) fail(`the local D1 migrations failed (exit ${migrate.status})`, migrate.status ?? 1, true);

const dev: { key: string; adminSecret: string } = existsSync(KEY_FILE)
  ? (JSON.parse(readFileSync(KEY_FILE, "utf8")) as { key: string; adminSecret: string })
  : { key: generateApiKey(), adminSecret: `dev-admin-${crypto.randomUUID()}` };
writeFileSync(KEY_FILE, JSON.stringify(dev, null, 1) + "\n", { mode: 0o600 });

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

const log = createWriteStream(LOG, { flags: "a" });
const started = Date.now();
const child = spawn(
  "npx",
  [
    "wrangler",
    "dev",
    // The [ai] binding is remote-only: development stays on this machine unless --remote is asked for.
    ...(args.includes("--remote") ? [] : ["--local"]),
    "--var",
    `ADMIN_SECRET:${dev.adminSecret}`,
    "--var",
    "WEBHOOKS_ALLOW_LOCAL:true",
    // Room for the 200-stream benchmark (npm run bench:streams); deployed, wrangler.toml's cap applies.
    "--var",
    "EVENT_STREAMS_PER_KEY:1000",
    ...args,
  ],
  { env: ENV, stdio: ["ignore", "pipe", "pipe"] },
);
let ready = false;
let stopping = false;
child.stdout.pipe(log, { end: false });
child.stderr.on("data", (chunk: Buffer) => {
  log.write(chunk);
  // Before it is ready wrangler's stderr is banners and warnings (in the log); after, it is what to see.
  if (ready) process.stderr.write(chunk);
});
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.on(signal, () => {
    stopping = true;
    child.kill(signal);
  });
child.on("exit", (code, signal) => {
  log.end(() => {
    if (stopping) process.exit(0);
    fail(`wrangler dev exited (${signal ?? `code ${code}`})${ready ? "" : " before it was ready"}`, code || 1, true);
  });
});

while (!ready) {
  if (Date.now() - started > READY_TIMEOUT_MS) {
    child.kill("SIGTERM");
    fail(`wrangler dev did not answer ${base}/healthz within ${READY_TIMEOUT_MS / 1000} s`, 1, true);
  }
  try {
    ready = (await fetch(`http://${probeHost.includes(":") ? `[${probeHost}]` : probeHost}:${port}/healthz`)).ok;
  } catch {
    // not up yet
  }
  if (!ready) await new Promise((r) => setTimeout(r, 250));
}

process.stdout.write(
  [
    `ready on ${base} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    "",
    `  export TTC_KEY=${dev.key}`,
    `  curl -s ${base}/v1/usage -H "Authorization: Bearer $TTC_KEY"`,
    "",
    `development API key above (tenant ten_dev; kept in ${KEY_FILE})`,
    `admin secret for /admin routes: ${dev.adminSecret}`,
    `API docs: ${base}/docs (OpenAPI: ${base}/openapi.json); guides: README.md and docs/`,
    `wrangler's output and request logs: ${LOG} (errors and warnings also here); Ctrl-C stops`,
    "",
  ].join("\n"),
);
