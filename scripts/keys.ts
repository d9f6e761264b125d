/**
 * npm run keys -- create [--tenant ID | --tenant-name NAME] [--name NAME] [--rate N] [--tokens-per-day N]
 *                        [--money-per-day USD] [--solve-tokens N] [--solve-money USD]
 * npm run keys -- list [--tenant ID]
 * npm run keys -- revoke KEY_ID
 *
 * API keys in the local D1 database (what `npm run dev` serves), or with --remote in the deployed one.
 * A created key is printed once; only its SHA-256 is stored.
 */
import { parseArgs } from "node:util";
import { DEFAULT_KEY_LIMITS, newKey, resolveKeyLimits, type KeyLimits } from "../src/auth/apiKey";
import { d1, insertSql, lit, type D1Target } from "./d1";

function fail(message: string): never {
  process.stderr.write(`keys: ${message}\n`);
  process.exit(2);
}

function args() {
  try {
    return parseArgs({
      allowPositionals: true,
      strict: true,
      options: {
        tenant: { type: "string" },
        "tenant-name": { type: "string" },
        name: { type: "string" },
        rate: { type: "string" },
        "tokens-per-day": { type: "string" },
        "money-per-day": { type: "string" },
        "solve-tokens": { type: "string" },
        "solve-money": { type: "string" },
        remote: { type: "boolean" },
        "persist-to": { type: "string" },
      },
    });
  } catch (err) {
    return fail(err instanceof Error ? err.message.split("\n")[0]! : String(err));
  }
}

const { values, positionals } = args();

function positive(flag: string, integer: boolean): number | undefined {
  const raw = values[flag as keyof typeof values];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n)))
    fail(`--${flag} must be a positive ${integer ? "integer" : "number"}, not "${String(raw)}"`);
  return n;
}

const target: D1Target = {
  ...(values.remote ? { remote: true } : {}),
  ...(values["persist-to"] ? { persistTo: values["persist-to"] } : {}),
};

/** The flag that sets each limit, for messages. */
const FLAG: Record<keyof KeyLimits, string> = {
  ratePerMinute: "--rate",
  tokensPerDay: "--tokens-per-day",
  moneyPerDay: "--money-per-day",
  defaultSolveTokens: "--solve-tokens",
  defaultSolveMoney: "--solve-money",
};

async function create(): Promise<void> {
  const limits: Partial<KeyLimits> = {};
  const set = (k: keyof KeyLimits, v: number | undefined) => v !== undefined && (limits[k] = v);
  set("ratePerMinute", positive("rate", true));
  set("tokensPerDay", positive("tokens-per-day", true));
  set("moneyPerDay", positive("money-per-day", false));
  set("defaultSolveTokens", positive("solve-tokens", true));
  set("defaultSolveMoney", positive("solve-money", false));
  const resolved = resolveKeyLimits(limits);
  if (!resolved.ok) fail(resolved.error.replace(/limits\.(\w+)/g, (_m, k: string) => FLAG[k as keyof KeyLimits]));
  let tenantId = values.tenant;
  const statements: string[] = [];
  if (tenantId) {
    if (d1(`SELECT id FROM tenants WHERE id = ${lit(tenantId)}`, target).length === 0) fail(`no tenant "${tenantId}"`);
  } else {
    tenantId = `ten_${crypto.randomUUID()}`;
    statements.push(
      insertSql("tenants", { id: tenantId, name: values["tenant-name"] ?? "default", created_at: Date.now() }),
    );
  }
  const made = await newKey(tenantId, values.name ?? "default", resolved.limits);
  const r = made.row;
  statements.push(
    insertSql("api_keys", {
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
    }),
  );
  d1(statements.join("; "), target);
  process.stdout.write(`key ${r.id} for tenant ${tenantId}\n${made.key}\n(shown once: store it now)\n`);
}

function list(): void {
  const where = values.tenant ? ` WHERE tenant_id = ${lit(values.tenant)}` : "";
  const rows = d1<Record<string, unknown>>(
    `SELECT id, tenant_id, name, prefix, rate_per_minute, tokens_per_day, money_per_day, default_solve_tokens, default_solve_money, created_at, revoked_at FROM api_keys${where} ORDER BY created_at`,
    target,
  );
  for (const r of rows) {
    const state = r.revoked_at ? `revoked ${new Date(Number(r.revoked_at)).toISOString()}` : "active";
    process.stdout.write(
      `${r.id}  ${r.prefix}…  tenant ${r.tenant_id}  "${r.name}"  ${state}  ${r.rate_per_minute}/min  ${r.tokens_per_day} tokens/day  $${r.money_per_day}/day  per solve ${r.default_solve_tokens} tokens $${r.default_solve_money}\n`,
    );
  }
  if (rows.length === 0) process.stdout.write("no keys\n");
}

function revoke(id: string | undefined): void {
  if (!id) fail("revoke needs a key id (see `npm run keys -- list`)");
  const done = d1<{ id: string }>(
    `UPDATE api_keys SET revoked_at = ${Date.now()} WHERE id = ${lit(id)} AND revoked_at IS NULL RETURNING id`,
    target,
  );
  if (done.length === 0) fail(`no active key "${id}"`);
  process.stdout.write(`revoked ${id}\n`);
}

const [command, ...rest] = positionals;
if (command === "create") await create();
else if (command === "list") list();
else if (command === "revoke") revoke(rest[0]);
else fail(`usage: npm run keys -- create|list|revoke (defaults per key: ${JSON.stringify(DEFAULT_KEY_LIMITS)})`);
