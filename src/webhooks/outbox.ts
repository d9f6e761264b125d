/**
 * A solve's webhook outbox in its Durable Object's SQLite: messages waiting for their next attempt. It is
 * the durable record of what still has to be sent; D1 keeps the log of what was tried.
 */
export interface OutboxEntry {
  id: string;
  url: string;
  body: string;
  attempts: number;
  nextAt: number;
}

export class Outbox {
  constructor(private readonly sql: SqlStorage) {
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS outbox (id TEXT PRIMARY KEY, url TEXT NOT NULL, body TEXT NOT NULL, attempts INTEGER NOT NULL, next_at INTEGER NOT NULL)",
    );
  }

  /** Queue a message (again, for a replay: its attempts so far are kept). */
  put(e: OutboxEntry): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO outbox (id, url, body, attempts, next_at) VALUES (?, ?, ?, ?, ?)",
      e.id,
      e.url,
      e.body,
      e.attempts,
      e.nextAt,
    );
  }

  remove(id: string): void {
    this.sql.exec("DELETE FROM outbox WHERE id = ?", id);
  }

  /** Entries due by `now`; if none is, the earliest (the alarm that runs this was set for it). */
  due(now: number): OutboxEntry[] {
    const rows = this.sql
      .exec<{ id: string; url: string; body: string; attempts: number; next_at: number }>(
        "SELECT * FROM outbox ORDER BY next_at",
      )
      .toArray();
    const due = rows.filter((r) => r.next_at <= now);
    return (due.length ? due : rows.slice(0, 1)).map((r) => ({
      id: r.id,
      url: r.url,
      body: r.body,
      attempts: r.attempts,
      nextAt: r.next_at,
    }));
  }

  earliest(): number | null {
    const row = this.sql.exec<{ at: number | null }>("SELECT MIN(next_at) AS at FROM outbox").one();
    return row.at;
  }
}
