/**
 * A SolveSession's durable state under typed keys. Small values (the request, flags) live in the object's
 * key-value storage; the executor state and the step journal can grow with the solve (a search over
 * thousands of candidates), so they are stored as JSON split across rows of a SQLite table, each row far
 * below the platform's 2 MB limit on a value.
 */
import type { Conversation } from "../engine/types";
import type { ResponseEcho } from "../openai/responses";
import type { AutoDecision } from "../policy/auto";
import type { ProbePlan } from "../policy/probeStep";
import type { Budget } from "../engine/budget";
import type { Execution } from "../engine/executor";
import type { StepIntent, StepJournal, StepResults } from "../engine/step";
import type { StrategySpec } from "../engine/strategies";

/** What the edge handler hands a new solve. */
export interface StartInput {
  id: string;
  /** Who owns the solve: other tenants are told it does not exist. */
  tenantId: string;
  /** The key whose daily caps the solve is charged against (its KeyQuota object). */
  keyId: string;
  prompt: string;
  /** The conversation the prompt was asked in (OpenAI-compatible requests), rendered with it for every model. */
  context?: Conversation;
  stop?: string[];
  /** The caller's `user` and `metadata` (OpenAI-compatible requests), kept with the solve. */
  user?: string;
  metadata?: Record<string, string>;
  /** A Responses API request: what its response object echoes. */
  response?: ResponseEcho;
  spec: StrategySpec;
  budget: Budget;
  seed: number;
  /** Where to POST the solve's completion (Standard Webhooks), checked by the SSRF guard. */
  webhook?: { url: string };
  /** For `auto` solves decided at the edge: what the policy chose and why. */
  policy?: AutoDecision;
  /** For `auto` solves whose policy probes first: `spec` is the probe, and this decides after it. */
  probe?: ProbePlan;
}

export interface SolveMeta {
  input: StartInput;
  createdAt: number;
}

interface Small {
  meta: SolveMeta;
  cancelRequested: true;
  /** The solve's summary and calls are in D1. */
  recorded: true;
  /** The solve's final spend is settled with its key's quota. */
  settled: true;
  /** The completion webhook is in the outbox (and the D1 log). */
  webhookQueued: true;
}

interface Large {
  exec: Execution;
  /** A step's intent, then its results, between its provider calls and the commit of the new state. */
  pending: StepIntent | StepResults;
}

/** Characters per row: at most 3 bytes each in UTF-8, so a row stays under 1 MB. */
const PART_CHARS = 300_000;

export class SolveStorage implements StepJournal {
  private readonly sql: SqlStorage;

  constructor(private readonly storage: DurableObjectStorage) {
    this.sql = storage.sql;
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS state (key TEXT NOT NULL, part INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (key, part))",
    );
  }

  get<K extends keyof Small>(key: K): Promise<Small[K] | undefined> {
    return this.storage.get<Small[K]>(key);
  }

  put<K extends keyof Small>(key: K, value: Small[K]): Promise<void> {
    return this.storage.put(key, value);
  }

  read<K extends keyof Large>(key: K): Large[K] | undefined {
    const parts = this.sql.exec<{ data: string }>("SELECT data FROM state WHERE key = ? ORDER BY part", key).toArray();
    return parts.length === 0 ? undefined : (JSON.parse(parts.map((p) => p.data).join("")) as Large[K]);
  }

  /** Replace a large value in one transaction: readers see the old parts or the new ones, never a mix. */
  write<K extends keyof Large>(key: K, value: Large[K] | undefined): void {
    const json = value === undefined ? "" : JSON.stringify(value);
    this.storage.transactionSync(() => {
      this.sql.exec("DELETE FROM state WHERE key = ?", key);
      for (let i = 0, part = 0; i < json.length; part++) {
        let end = Math.min(i + PART_CHARS, json.length);
        // Never between the two halves of a surrogate pair: each part must be valid text on its own.
        const last = json.charCodeAt(end - 1);
        if (end < json.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
        this.sql.exec("INSERT INTO state (key, part, data) VALUES (?, ?, ?)", key, part, json.slice(i, end));
        i = end;
      }
    });
  }

  /** Meta and execution together, or null for an object that holds no solve. */
  async load(): Promise<{ meta: SolveMeta; exec: Execution } | null> {
    const meta = await this.get("meta");
    const exec = this.read("exec");
    return meta && exec ? { meta, exec } : null;
  }

  async create(meta: SolveMeta, exec: Execution): Promise<void> {
    this.write("exec", exec);
    await this.put("meta", meta);
  }

  /** The step's new state; its journal entry is no longer needed. */
  commit(exec: Execution): void {
    this.storage.transactionSync(() => {
      this.write("exec", exec);
      this.write("pending", undefined);
    });
  }

  async recall(step: number): Promise<StepIntent | StepResults | undefined> {
    const pending = this.read("pending");
    return pending?.step === step ? pending : undefined;
  }

  async keep(entry: StepIntent | StepResults): Promise<void> {
    this.write("pending", entry);
  }
}
