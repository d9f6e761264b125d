/**
 * `npm run keys` against a fresh local D1: create prints a key once and stores only its hash; list; revoke.
 * Each command is a wrangler run (seconds each; about 20 s in all here), so it runs only with
 * TTC_CLI_TESTS=1, to keep `npm test` fast.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { hashApiKey } from "../src/auth/apiKey";
import { d1 } from "../scripts/d1";
import { keysCommand } from "../scripts/keys";
import { runCommand, type CliRun } from "./support/cli";

const ENV = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" };
const persist = process.env.TTC_CLI_TESTS === "1" ? mkdtempSync(join(tmpdir(), "ttc-keys-")) : "";

function keys(...args: string[]): Promise<CliRun> {
  return runCommand(keysCommand, [...args, "--persist-to", persist]);
}

afterAll(() => {
  if (persist) rmSync(persist, { recursive: true, force: true });
});

describe.runIf(process.env.TTC_CLI_TESTS === "1")("npm run keys", () => {
  it("creates, lists and revokes keys in the local D1; bad input exits 2 with one line", async () => {
    const migrate = spawnSync(
      "npx",
      ["wrangler", "d1", "migrations", "apply", "DB", "--local", "--persist-to", persist],
      { env: ENV, encoding: "utf8" },
    );
    expect(migrate.status, migrate.stderr).toBe(0);
    const created = await keys("create", "--tenant-name", "acme", "--rate", "30", "--money-per-day", "2.5");
    expect(created.status, created.stderr).toBe(0);
    const [head, key] = created.stdout.split("\n");
    const [, keyId, tenantId] = /^key (key_\S+) for tenant (ten_\S+)$/.exec(head!)!;
    expect(key).toMatch(/^ttc_[A-Za-z0-9_-]{43}$/);
    const rows = d1<Record<string, unknown>>(`SELECT * FROM api_keys WHERE id = '${keyId}'`, { persistTo: persist });
    expect(rows[0]).toMatchObject({
      tenant_id: tenantId,
      hash: await hashApiKey(key!),
      rate_per_minute: 30,
      money_per_day: 2.5,
      revoked_at: null,
    });
    expect(JSON.stringify(rows)).not.toContain(key!.slice(4));
    const listed = await keys("list");
    expect(listed.stdout).toMatch(new RegExp(`^${keyId}  ttc_\\S+…  tenant ${tenantId}  "default"  active  30/min`));
    expect(listed.stdout).not.toContain(key!);
    expect((await keys("revoke", keyId!)).stdout).toBe(`revoked ${keyId}\n`);
    const bad = await keys("create", "--rate=-3");
    expect([bad.status, bad.stderr]).toEqual([2, 'keys: --rate must be a positive integer, not "-3"\n']);
  });
});
