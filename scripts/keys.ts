/**
 * npm run keys -- create [--tenant ID | --tenant-name NAME] [--name NAME] [--rate N] [--tokens-per-day N]
 *                        [--money-per-day USD] [--solve-tokens N] [--solve-money USD]
 * npm run keys -- list [--tenant ID]
 * npm run keys -- revoke KEY_ID
 *
 * API keys in the local D1 database (what `npm run dev` serves), or with --remote in the deployed one.
 * A created key is printed once; only its SHA-256 is stored.
 */
import { DEFAULT_KEY_LIMITS, newKey, resolveKeyLimits, type KeyLimits } from "../src/auth/apiKey";
import { command, InputError, runMain, type Values } from "./cli";
import { d1, insertKeySql, insertSql, lit, type D1Target } from "./d1";

const options = {
  tenant: { type: "string", arg: "ID", help: "an existing tenant (create, list)" },
  "tenant-name": { type: "string", arg: "NAME", help: "create: the new tenant's name (default default)" },
  name: { type: "string", arg: "NAME", help: "create: the key's name" },
  rate: { type: "string", arg: "N", help: "create: requests per minute" },
  "tokens-per-day": { type: "string", arg: "N", help: "create: daily token cap" },
  "money-per-day": { type: "string", arg: "USD", help: "create: daily dollar cap" },
  "solve-tokens": { type: "string", arg: "N", help: "create: a solve's default token cap" },
  "solve-money": { type: "string", arg: "USD", help: "create: a solve's default dollar cap" },
  remote: { type: "boolean", help: "the deployed database instead of the local one" },
  "persist-to": { type: "string", arg: "DIR", help: "a local state folder other than .wrangler/state" },
} as const;
type Args = Values<typeof options>;

export const keysCommand = command({
  name: "keys",
  usage: ["create [--tenant ID | --tenant-name NAME] [--name NAME] [limits]", "list [--tenant ID]", "revoke KEY_ID"],
  summary: `API keys in the local D1 database (what npm run dev serves), or with --remote in the deployed one. A
created key is printed once; only its SHA-256 is stored. Defaults per key: ${JSON.stringify(DEFAULT_KEY_LIMITS)}.`,
  options,
  positionals: true,
  async run(values, [sub, ...rest]) {
    const target: D1Target = {
      ...(values.remote ? { remote: true } : {}),
      ...(values["persist-to"] ? { persistTo: values["persist-to"] } : {}),
    };
    if (sub === "create") await create(values, target);
    else if (sub === "list") list(values, target);
    else if (sub === "revoke") revoke(rest[0], target);
    else
      throw new InputError(
        `${sub === undefined ? "no command" : `unknown command "${sub}"`}: give create, list or revoke (see --help)`,
      );
  },
});

function positive(
  values: Args,
  flag: "rate" | "tokens-per-day" | "money-per-day" | "solve-tokens" | "solve-money",
  integer: boolean,
): number | undefined {
  const raw = values[flag];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n)))
    throw new InputError(`--${flag} must be a positive ${integer ? "integer" : "number"}, not "${String(raw)}"`);
  return n;
}

/** The flag that sets each limit, for messages. */
const FLAG: Record<keyof KeyLimits, string> = {
  ratePerMinute: "--rate",
  tokensPerDay: "--tokens-per-day",
  moneyPerDay: "--money-per-day",
  defaultSolveTokens: "--solve-tokens",
  defaultSolveMoney: "--solve-money",
};

async function create(values: Args, target: D1Target): Promise<void> {
  const limits: Partial<KeyLimits> = {};
  const set = (k: keyof KeyLimits, v: number | undefined) => v !== undefined && (limits[k] = v);
  set("ratePerMinute", positive(values, "rate", true));
  set("tokensPerDay", positive(values, "tokens-per-day", true));
  set("moneyPerDay", positive(values, "money-per-day", false));
  set("defaultSolveTokens", positive(values, "solve-tokens", true));
  set("defaultSolveMoney", positive(values, "solve-money", false));
  const resolved = resolveKeyLimits(limits);
  if (!resolved.ok)
    throw new InputError(resolved.error.replace(/limits\.(\w+)/g, (_m, k: string) => FLAG[k as keyof KeyLimits]));
  let tenantId = values.tenant;
  const statements: string[] = [];
  if (tenantId) {
    if (d1(`SELECT id FROM tenants WHERE id = ${lit(tenantId)}`, target).length === 0)
      throw new InputError(`no tenant "${tenantId}"`);
  } else {
    tenantId = `ten_${crypto.randomUUID()}`;
    statements.push(
      insertSql("tenants", { id: tenantId, name: values["tenant-name"] ?? "default", created_at: Date.now() }),
    );
  }
  const made = await newKey(tenantId, values.name ?? "default", resolved.limits);
  const r = made.row;
  statements.push(insertKeySql(r));
  d1(statements.join("; "), target);
  process.stdout.write(`key ${r.id} for tenant ${tenantId}\n${made.key}\n(shown once: store it now)\n`);
}

function list(values: Args, target: D1Target): void {
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

function revoke(id: string | undefined, target: D1Target): void {
  if (!id) throw new InputError("revoke needs a key id (see `npm run keys -- list`)");
  const done = d1<{ id: string }>(
    `UPDATE api_keys SET revoked_at = ${Date.now()} WHERE id = ${lit(id)} AND revoked_at IS NULL RETURNING id`,
    target,
  );
  if (done.length === 0) throw new InputError(`no active key "${id}"`);
  process.stdout.write(`revoked ${id}\n`);
}

runMain(import.meta.url, keysCommand);
