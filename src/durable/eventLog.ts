/** A solve's progress events in its Durable Object's SQLite: what SSE subscribers read and replay. */

export interface SolveEvent {
  seq: number;
  type: string;
  data: string;
}

export class EventLog {
  constructor(private readonly sql: SqlStorage) {
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL, data TEXT NOT NULL)",
    );
  }

  /** The event as stored, with its sequence number (for subscribers). */
  append(type: string, data: unknown): SolveEvent {
    const text = JSON.stringify(data);
    const { seq } = this.sql
      .exec<{ seq: number }>("INSERT INTO events (type, data) VALUES (?, ?) RETURNING seq", type, text)
      .one();
    return { seq, type, data: text };
  }

  /** Events after `seq` (Last-Event-ID), in order. */
  after(seq: number): SolveEvent[] {
    return this.sql
      .exec<{ seq: number; type: string; data: string }>(
        "SELECT seq, type, data FROM events WHERE seq > ? ORDER BY seq",
        seq,
      )
      .toArray();
  }
}
