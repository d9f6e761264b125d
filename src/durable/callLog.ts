/**
 * A solve's provider calls in its Durable Object's SQLite, appended with each step's state and copied to
 * D1 when the solve ends. The records are the executor's, priced once: the solve's spend is their sum.
 */
import type { CallRecord } from "../engine/budget";

const COLUMNS = [
  "step",
  "role",
  "provider",
  "purpose",
  "requests",
  "samples",
  "prompt_tokens",
  "completion_tokens",
  "money",
  "flops",
  "latency_ms",
  "status",
  "estimated",
] as const;

export class CallLog {
  constructor(private readonly sql: SqlStorage) {
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS provider_calls (step INTEGER NOT NULL, role TEXT NOT NULL, provider TEXT NOT NULL, purpose TEXT NOT NULL, requests INTEGER NOT NULL, samples INTEGER NOT NULL, prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL, money REAL NOT NULL, flops REAL NOT NULL, latency_ms INTEGER NOT NULL, status TEXT NOT NULL, estimated INTEGER NOT NULL)",
    );
  }

  append(calls: readonly CallRecord[]): void {
    const placeholders = COLUMNS.map(() => "?").join(", ");
    for (const c of calls) {
      this.sql.exec(
        `INSERT INTO provider_calls (${COLUMNS.join(", ")}) VALUES (${placeholders})`,
        c.step,
        c.role,
        c.provider,
        c.purpose,
        c.requests,
        c.samples,
        c.promptTokens,
        c.completionTokens,
        c.money,
        c.flops,
        c.latencyMs,
        c.status,
        c.estimated ? 1 : 0,
      );
    }
  }

  all(): CallRecord[] {
    return this.sql
      .exec<Record<(typeof COLUMNS)[number], string | number>>(
        `SELECT ${COLUMNS.join(", ")} FROM provider_calls ORDER BY rowid`,
      )
      .toArray()
      .map((r) => ({
        step: Number(r.step),
        role: r.role as CallRecord["role"],
        provider: String(r.provider),
        purpose: r.purpose as CallRecord["purpose"],
        requests: Number(r.requests),
        samples: Number(r.samples),
        promptTokens: Number(r.prompt_tokens),
        completionTokens: Number(r.completion_tokens),
        money: Number(r.money),
        flops: Number(r.flops),
        latencyMs: Number(r.latency_ms),
        status: r.status as CallRecord["status"],
        ...(Number(r.estimated) === 1 ? { estimated: true } : {}),
      }));
  }
}
