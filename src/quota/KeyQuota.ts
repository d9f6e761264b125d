/**
 * KeyQuota: one Durable Object per API key, the single writer of that key's rate limit and daily spend, so
 * concurrent requests and solves see one count.
 *
 * Spend: a solve reserves its whole budget (tokens and money caps, which the executor never exceeds) from
 * the day's cap before it starts; its Durable Object charges what it has spent after every step, and settles
 * at the end, when the unspent rest of the reservation is released. So the day's committed spend is
 * Σ settled spend + Σ max(reservation, spent so far) of running solves, and concurrent solves cannot
 * overrun the cap. All amounts are absolute totals, so a charge or settle retried after a crash is harmless.
 *
 * The rate-limit bucket lives in memory: an object is evicted only after it has been idle, by which time a
 * bucket has mostly refilled anyway.
 *
 * Open event streams: each holds a lease here, taken when it opens and given back when it closes (its
 * client left, or the solve ended). A stream whose Worker died without giving it back (a crash, a deploy)
 * stops counting when its lease expires: open streams renew theirs every STREAM_LEASE_RENEW_MS. Leases live
 * in memory: a durable write per stream opened and closed made 200 closing streams block the local runtime
 * for seconds (each commit waits for the disk), and an object holding leases is renewed too often to be
 * evicted; if it restarts, the leases it forgot come back with their streams' next renewals.
 */
import { DurableObject } from "cloudflare:workers";
import type { Spend } from "../engine/meter";
import { secondsToNextUtcDay, utcDay } from "./day";
import { admit, type Bucket } from "./rateLimit";

/** The daily caps a key is held to (its KeyLimits, src/auth/apiKey.ts). */
export interface DailyLimits {
  tokensPerDay: number;
  moneyPerDay: number;
}

/** What a solve reserves and charges against its key's day: the meter's tokens and dollars. */
export type Amount = Pick<Spend, "tokens" | "money">;

export type QuotaRefusal = { ok: false; limit: string; message: string; retryAfterSeconds: number };
export type QuotaResult = { ok: true } | QuotaRefusal;

/**
 * What a request sees of its key's limits, for OpenAI's `x-ratelimit-*` headers: requests (the bucket: a
 * minute's worth, refilled continuously) and tokens (the daily cap less what today's solves committed).
 */
export interface RateHeadroom {
  requests: { limit: number; remaining: number; resetMs: number };
  tokens: { limit: number; remaining: number; resetMs: number };
}

export interface DailyUsage {
  day: string;
  tokens: { limit: number; spent: number; reserved: number };
  money: { limit: number; spent: number; reserved: number };
}

/** A refusal that could pass once running solves settle is retried sooner than the next day. */
const RETRY_WHILE_SOLVES_RUN_S = 30;

/** How often an open event stream renews its lease, and how long a lease lasts without renewal. */
export const STREAM_LEASE_RENEW_MS = 60_000;
const STREAM_LEASE_MS = 150_000;
/** Retry-After for a refused stream: streams close whenever their clients leave or their solves end. */
export const STREAM_RETRY_AFTER_S = 10;

export class KeyQuota extends DurableObject<Env> {
  private bucket: Bucket | undefined;
  /** Open event streams' leases: stream id → expiry (ms). */
  private readonly streams = new Map<string, number>();
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS reservations (solve_id TEXT PRIMARY KEY, day TEXT NOT NULL, tokens INTEGER NOT NULL, money REAL NOT NULL, spent_tokens INTEGER NOT NULL DEFAULT 0, spent_money REAL NOT NULL DEFAULT 0, settled INTEGER NOT NULL DEFAULT 0)",
    );
  }

  /** Take a lease for a new event stream, unless `cap` streams of this key are open already. */
  openStream(streamId: string, cap: number): QuotaResult {
    if (this.openStreams() >= cap)
      return {
        ok: false,
        limit: "event streams",
        message: `too many open event streams: this key may hold ${cap} at once; close one or wait for a solve to end`,
        retryAfterSeconds: STREAM_RETRY_AFTER_S,
      };
    this.streams.set(streamId, Date.now() + STREAM_LEASE_MS);
    return { ok: true };
  }

  /** An open stream is still open (also brings back a lease that expired or was forgotten while it lived). */
  renewStream(streamId: string): void {
    this.streams.set(streamId, Date.now() + STREAM_LEASE_MS);
  }

  closeStreams(streamIds: string[]): void {
    for (const id of streamIds) this.streams.delete(id);
  }

  /** Event streams of this key open now (leases not yet expired; expired ones are forgotten). */
  openStreams(): number {
    const now = Date.now();
    for (const [id, expires] of this.streams) if (expires <= now) this.streams.delete(id);
    return this.streams.size;
  }

  admit(ratePerMinute: number, tokensPerDay?: number): QuotaResult & { headroom?: RateHeadroom } {
    const now = Date.now();
    const a = admit(this.bucket, ratePerMinute, now);
    this.bucket = a.bucket;
    const perMs = ratePerMinute / 60_000;
    const headroom: RateHeadroom | undefined =
      tokensPerDay === undefined
        ? undefined
        : {
            requests: {
              limit: ratePerMinute,
              remaining: Math.max(0, Math.floor(a.bucket.tokens)),
              // Until the bucket is full again.
              resetMs: Math.ceil((ratePerMinute - a.bucket.tokens) / perMs),
            },
            tokens: {
              limit: tokensPerDay,
              remaining: Math.max(0, Math.floor(tokensPerDay - this.committed(utcDay(now)).committed.tokens)),
              resetMs: secondsToNextUtcDay(now) * 1000,
            },
          };
    if (a.ok) return { ok: true, ...(headroom ? { headroom } : {}) };
    return {
      ...(headroom ? { headroom } : {}),
      ok: false,
      limit: "rate",
      message: `rate limit: this key may make ${ratePerMinute} requests per minute`,
      retryAfterSeconds: a.retryAfterSeconds,
    };
  }

  /** Reserve a solve's budget from today's caps (idempotent per solve). */
  reserve(solveId: string, want: Amount, limits: DailyLimits): QuotaResult {
    const now = Date.now();
    const day = utcDay(now);
    if (this.sql.exec("SELECT 1 FROM reservations WHERE solve_id = ?", solveId).toArray().length > 0)
      return { ok: true };
    this.sql.exec("DELETE FROM reservations WHERE day < ? AND settled = 1", day);
    const used = this.committed(day);
    for (const [kind, cap, unit] of [
      ["tokens", limits.tokensPerDay, ""],
      ["money", limits.moneyPerDay, "$"],
    ] as const) {
      const left = Math.max(0, cap - used.committed[kind]);
      if (want[kind] <= left) continue;
      const fmt = (x: number) => (unit ? `$${x.toFixed(4)}` : String(Math.round(x)));
      const soon = want[kind] <= cap - used.floor[kind];
      return {
        ok: false,
        limit: `${kind} per day`,
        message:
          `daily ${kind} cap: this solve's budget.${kind} (${fmt(want[kind])}) is more than the ${fmt(left)} left of this key's ${fmt(cap)} per day` +
          (soon ? "; running solves hold reservations that are released when they finish" : ""),
        retryAfterSeconds: soon ? RETRY_WHILE_SOLVES_RUN_S : secondsToNextUtcDay(now),
      };
    }
    this.sql.exec(
      "INSERT INTO reservations (solve_id, day, tokens, money) VALUES (?, ?, ?, ?)",
      solveId,
      day,
      want.tokens,
      want.money,
    );
    return { ok: true };
  }

  /** What a running solve has spent so far (a total; never decreases). */
  charge(solveId: string, spent: Amount): void {
    this.sql.exec(
      "UPDATE reservations SET spent_tokens = MAX(spent_tokens, ?), spent_money = MAX(spent_money, ?) WHERE solve_id = ? AND settled = 0",
      spent.tokens,
      spent.money,
      solveId,
    );
  }

  /** The solve ended: its final spend stays charged, the rest of its reservation is released. */
  settle(solveId: string, spent: Amount): void {
    this.sql.exec(
      "UPDATE reservations SET spent_tokens = ?, spent_money = ?, settled = 1 WHERE solve_id = ? AND settled = 0",
      spent.tokens,
      spent.money,
      solveId,
    );
  }

  /** A reservation for a solve that never started. */
  release(solveId: string): void {
    this.sql.exec("DELETE FROM reservations WHERE solve_id = ? AND settled = 0", solveId);
  }

  usage(limits: DailyLimits): DailyUsage {
    const day = utcDay(Date.now());
    const row = this.sql
      .exec<{ st: number; sm: number; rt: number; rm: number }>(
        "SELECT COALESCE(SUM(spent_tokens), 0) AS st, COALESCE(SUM(spent_money), 0) AS sm, COALESCE(SUM(CASE WHEN settled = 0 THEN MAX(tokens - spent_tokens, 0) ELSE 0 END), 0) AS rt, COALESCE(SUM(CASE WHEN settled = 0 THEN MAX(money - spent_money, 0) ELSE 0 END), 0) AS rm FROM reservations WHERE day = ?",
        day,
      )
      .one();
    return {
      day,
      tokens: { limit: limits.tokensPerDay, spent: row.st, reserved: row.rt },
      money: { limit: limits.moneyPerDay, spent: row.sm, reserved: row.rm },
    };
  }

  /** Committed spend (what new reservations must fit beside) and its floor (what stays once running solves settle). */
  private committed(day: string): { committed: Amount; floor: Amount } {
    const row = this.sql
      .exec<{ ct: number; cm: number; ft: number; fm: number }>(
        "SELECT COALESCE(SUM(CASE WHEN settled = 1 THEN spent_tokens ELSE MAX(tokens, spent_tokens) END), 0) AS ct, COALESCE(SUM(CASE WHEN settled = 1 THEN spent_money ELSE MAX(money, spent_money) END), 0) AS cm, COALESCE(SUM(spent_tokens), 0) AS ft, COALESCE(SUM(spent_money), 0) AS fm FROM reservations WHERE day = ?",
        day,
      )
      .one();
    return { committed: { tokens: row.ct, money: row.cm }, floor: { tokens: row.ft, money: row.fm } };
  }
}
