/**
 * SolveSession: one Durable Object per solve. It holds the executor state, the budget ledger and the event
 * log, and runs one executor step per alarm. Provider results are stored before they are absorbed, so a
 * step retried after eviction or a crash reuses what was already paid for instead of calling again.
 * RPC methods return result objects rather than throwing.
 */
import { DurableObject } from "cloudflare:workers";
import { drizzle } from "drizzle-orm/d1";
import type { ProviderSet } from "../engine/executor";
import type { CostModel } from "../engine/budget";
import { applyStep, callProviders, finishExecution, planStep, startExecution, stopExecution, type CallWork, type Execution } from "../engine/executor";
import { concludeStrategy, planStrategy } from "../engine/strategies";
import { hashString } from "../engine/random";
import { describeSpec, type StrategySpec } from "../engine/strategies/spec";
import type { GenerateRequest, WorkResults } from "../engine/types";
import { providerCalls, solves } from "../db/schema";
import { parseWorld } from "../sim/world";
import { simProviders } from "../sim/provider";
import defaultWorld from "../../worlds/default.json";
import { parseProvidersConfig } from "../providers/config";
import { assembleProviders, generatorAdapter, verifierAdapter } from "../providers/index";

export interface SolveEnv {
  DB: D1Database;
  SOLVE_SESSION: DurableObjectNamespace<SolveSession>;
  PROVIDERS?: string;
}

export interface StartInput {
  id: string;
  prompt: string;
  spec: StrategySpec;
  budget: { generations?: number; tokens?: number; money?: number; deadline?: number };
  seed: number;
}

export interface SolveView {
  id: string;
  status: "running" | "done";
  stopReason?: string;
  detail?: string;
  strategy: string;
  answer: string | null;
  confidence: number | null;
  steps: number;
  spend: { generations: number; samples: number; tokens: number; verifierTokens: number; flops: number; money: number };
  createdAt: number;
}

export type RpcResult<T> = { ok: true; value: T } | { ok: false; error: string; code: "not_found" | "conflict" | "invalid" };

interface Meta {
  input: StartInput;
  createdAt: number;
}

/** The configured providers (PROVIDERS), built once per object instance. */
function providersFor(env: SolveEnv): { providers: ProviderSet; costs: CostModel } {
  const parsed = parseProvidersConfig(env.PROVIDERS);
  if (!parsed.ok) throw new Error(parsed.error);
  if (parsed.config === "sim") {
    const world = parseWorld(defaultWorld);
    if (!world.ok) throw new Error(world.error);
    return simProviders(world.world);
  }
  const context = { secrets: env as unknown as Record<string, string | undefined> };
  const { generator, verifier, reviser } = parsed.config;
  return assembleProviders({
    generator: generatorAdapter("generator", generator, context),
    verifier: verifierAdapter("verifier", verifier, context),
    ...(reviser ? { reviser: generatorAdapter("reviser", reviser, context) } : {}),
  });
}

export class SolveSession extends DurableObject<SolveEnv> {
  private readonly sql: SqlStorage;
  private wired?: { providers: ProviderSet; costs: CostModel };
  /** When this instance last armed the alarm (in memory: unknown after eviction), to report scheduling delay. */
  private armedAt?: number;
  /** Callers waiting for this solve to end (sync requests); in memory, so a caller falls back to polling. */
  private readonly waiters = new Set<() => void>();

  constructor(ctx: DurableObjectState, env: SolveEnv) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    // Schema on wake: cheap and idempotent.
    this.sql.exec("CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL, data TEXT NOT NULL)");
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS calls (step INTEGER NOT NULL, provider TEXT NOT NULL, purpose TEXT NOT NULL, requests INTEGER NOT NULL, samples INTEGER NOT NULL, prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL, latency_ms INTEGER NOT NULL, status TEXT NOT NULL, cost REAL NOT NULL)",
    );
  }

  async start(input: StartInput): Promise<RpcResult<SolveView>> {
    if (await this.ctx.storage.get<Meta>("meta")) return { ok: false, code: "conflict", error: `solve ${input.id} already exists` };
    const started = startExecution({ question: input.prompt }, input.spec, input.budget, input.seed);
    if (!started.ok) return { ok: false, code: "invalid", error: started.error };
    const meta: Meta = { input, createdAt: Date.now() };
    await this.ctx.storage.put({ meta, exec: started.execution });
    this.event("started", { strategy: describeSpec(input.spec) });
    this.armedAt = Date.now();
    await this.ctx.storage.setAlarm(this.armedAt);
    return { ok: true, value: this.view(meta, started.execution) };
  }

  async status(): Promise<RpcResult<SolveView>> {
    const meta = await this.ctx.storage.get<Meta>("meta");
    const exec = await this.ctx.storage.get<Execution>("exec");
    if (!meta || !exec) return { ok: false, code: "not_found", error: "no such solve" };
    return { ok: true, value: this.view(meta, exec) };
  }

  /**
   * Ask the solve to stop. The alarm is the only writer of the solve's state: it finishes a step that is in
   * flight (so what the providers billed is counted), then stops with the best answer so far and records it
   * in D1 with the platform's alarm retries behind it.
   */
  async cancel(): Promise<RpcResult<SolveView>> {
    const meta = await this.ctx.storage.get<Meta>("meta");
    const exec = await this.ctx.storage.get<Execution>("exec");
    if (!meta || !exec) return { ok: false, code: "not_found", error: "no such solve" };
    if (exec.status === "running") {
      await this.ctx.storage.put("cancelRequested", true);
      await this.ctx.storage.setAlarm(Date.now());
    }
    return { ok: true, value: this.view(meta, exec) };
  }

  /** Resolve when the solve ends or after `timeoutMs`, with its status either way. */
  async waitForDone(timeoutMs: number): Promise<RpcResult<SolveView>> {
    const first = await this.status();
    if (!first.ok || first.value.status === "done") return first;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      const waiters = this.waiters;
      function done(): void {
        clearTimeout(timer);
        waiters.delete(done);
        resolve();
      }
      waiters.add(done);
    });
    return this.status();
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Events after `after` (for server-sent events and reconnection with Last-Event-ID). */
  async events(after = 0): Promise<{ seq: number; type: string; data: string }[]> {
    return this.sql.exec<{ seq: number; type: string; data: string }>("SELECT seq, type, data FROM events WHERE seq > ? ORDER BY seq", after).toArray();
  }

  /**
   * One executor step. An unexpected error (a storage limit, a bug) fails the solve cleanly with the best
   * answer it had, rather than leaving it running or retrying its provider calls.
   */
  override async alarm(): Promise<void> {
    try {
      await this.step();
    } catch (err) {
      const meta = await this.ctx.storage.get<Meta>("meta");
      const exec = await this.ctx.storage.get<Execution>("exec");
      if (!meta || !exec || exec.status === "done") throw err;
      const stopped = stopExecution(exec, "failed", `internal error: ${err instanceof Error ? err.message : String(err)}`);
      // Without the candidates, so that it fits whatever made the step fail.
      const failed = { ...stopped, ...(stopped.outcome ? { outcome: { ...stopped.outcome, candidates: [] } } : {}) };
      await this.ctx.storage.put("exec", failed);
      await this.ctx.storage.delete("pending");
      this.event("done", { stopReason: "failed", steps: failed.steps });
      this.wake();
      await this.record(meta, failed);
    }
  }

  private async step(): Promise<void> {
    const began = Date.now();
    let providerMs = 0;
    const meta = await this.ctx.storage.get<Meta>("meta");
    let exec = await this.ctx.storage.get<Execution>("exec");
    if (!meta || !exec) return;
    if (exec.status === "done") {
      // Finished, but the D1 write failed last time: the platform retried the alarm, so try it again.
      await this.record(meta, exec);
      return;
    }
    let wired: { providers: ProviderSet; costs: CostModel };
    try {
      wired = this.wired ??= providersFor(this.env);
    } catch (err) {
      // A configuration error is the operator's, but the solve must still end cleanly.
      exec = stopExecution(exec, "failed", `configuration error: ${err instanceof Error ? err.message : String(err)}`);
      await this.ctx.storage.put("exec", exec);
      this.event("done", { stopReason: "failed" });
      this.wake();
      await this.record(meta, exec);
      return;
    }
    const { providers, costs } = wired;
    const cancelRequested = (await this.ctx.storage.get<boolean>("cancelRequested")) === true;
    // Results of this very step may already be stored by an attempt that died before absorbing them: they
    // were paid for, so they are absorbed whatever else happens.
    const pending = await this.ctx.storage.get<{ step: number; results: WorkResults }>("pending");
    const work = planStrategy(exec.strategy);
    if (pending?.step === exec.steps && work.kind !== "done") {
      exec = applyStep(exec, work, pending.results, costs);
    } else {
      const plan = cancelRequested
        ? ({ kind: "finish", reason: "cancelled", outcome: concludeStrategy(exec.strategy), detail: "cancelled by the caller" } as const)
        : planStep(exec, costs, Date.now());
      if (plan.kind === "finish") {
        exec = finishExecution(exec, plan.reason, plan.outcome, plan.detail);
      } else {
        let results: WorkResults | undefined;
        const called = Date.now();
        try {
          results = await callProviders(plan.work, providers);
        } catch (err) {
          exec = stopExecution(exec, "failed", `provider error: ${err instanceof Error ? err.message : String(err)}`);
        }
        providerMs = Date.now() - called;
        this.logCalls(exec.steps, plan.work, results, providerMs, costs);
        if (results) {
          await this.ctx.storage.put("pending", { step: exec.steps, results });
          exec = applyStep(exec, plan.work, results, costs);
        }
      }
    }
    // A cancel that arrived while the providers were working takes effect now that the step is counted.
    if (exec.status === "running" && (await this.ctx.storage.get<boolean>("cancelRequested"))) {
      exec = stopExecution(exec, "cancelled", "cancelled by the caller");
    }
    await this.ctx.storage.put("exec", exec);
    await this.ctx.storage.delete("pending");
    // Timings: how long the alarm waited after being armed, the step's own time, and its provider calls.
    const timing = { ...(this.armedAt !== undefined ? { scheduledMs: began - this.armedAt } : {}), stepMs: Date.now() - began, providerMs };
    this.event(exec.status === "done" ? "done" : "step", { steps: exec.steps, spend: exec.ledger, timing, ...(exec.stopReason ? { stopReason: exec.stopReason } : {}) });
    if (exec.status === "running") {
      this.armedAt = Date.now();
      await this.ctx.storage.setAlarm(this.armedAt);
    }
    else {
      this.wake();
      await this.record(meta, exec);
    }
  }

  /** One row per provider called in a step (one per role), kept here and written to D1 with the solve. */
  private logCalls(step: number, work: CallWork, results: WorkResults | undefined, latencyMs: number, costs: CostModel): void {
    const rows = new Map<string, { purpose: string; requests: number; samples: number; prompt: number; completion: number; cost: number }>();
    work.requests.forEach((req, i) => {
      const role = work.kind === "generate" ? (req as GenerateRequest).role : "verifier";
      const card = costs.cards[role];
      const row = rows.get(role) ?? { purpose: work.kind, requests: 0, samples: 0, prompt: 0, completion: 0, cost: 0 };
      row.requests += 1;
      const response = results?.responses[i];
      if (response) {
        row.prompt += response.usage.promptTokens;
        row.completion += response.usage.completionTokens;
        row.samples += "completions" in response ? response.completions.length : 0;
        row.cost += (response.usage.promptTokens * card.inputPricePerMillion + response.usage.completionTokens * card.outputPricePerMillion) / 1e6;
      }
      rows.set(role, row);
    });
    for (const [role, r] of rows) {
      this.sql.exec(
        "INSERT INTO calls VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        step, costs.cards[role as keyof CostModel["cards"]].name, `${r.purpose}:${role}`, r.requests, r.samples, r.prompt, r.completion, latencyMs, results ? "ok" : "error", r.cost,
      );
    }
  }

  private event(type: string, data: unknown): void {
    this.sql.exec("INSERT INTO events (type, data) VALUES (?, ?)", type, JSON.stringify(data));
  }

  private view(meta: Meta, exec: Execution): SolveView {
    const l = exec.ledger;
    return {
      id: meta.input.id,
      status: exec.status,
      ...(exec.stopReason ? { stopReason: exec.stopReason } : {}),
      ...(exec.detail ? { detail: exec.detail } : {}),
      strategy: describeSpec(meta.input.spec),
      answer: exec.outcome?.answer ?? null,
      confidence: exec.outcome ? exec.outcome.confidence : null,
      steps: exec.steps,
      spend: { generations: l.generations, samples: l.samples, tokens: l.tokens, verifierTokens: l.verifierTokens, flops: l.flops, money: l.money },
      createdAt: meta.createdAt,
    };
  }

  /** The solve's summary row and its provider calls in D1, once. */
  private async record(meta: Meta, exec: Execution): Promise<void> {
    if (await this.ctx.storage.get<boolean>("recorded")) return;
    const l = exec.ledger;
    await drizzle(this.env.DB)
      .insert(solves)
      .values({
        id: meta.input.id,
        promptHash: hashString(meta.input.prompt).toString(16),
        status: exec.status,
        stopReason: exec.stopReason ?? null,
        detail: exec.detail ?? null,
        strategy: describeSpec(meta.input.spec),
        spec: JSON.stringify(meta.input.spec),
        budget: JSON.stringify(meta.input.budget),
        seed: meta.input.seed,
        answer: exec.outcome?.answer ?? null,
        confidence: exec.outcome?.confidence ?? null,
        generations: l.generations,
        samples: l.samples,
        generatorTokens: l.generatorPromptTokens + l.generatorCompletionTokens,
        verifierTokens: l.verifierTokens,
        flops: l.flops,
        money: l.money,
        steps: exec.steps,
        createdAt: meta.createdAt,
        finishedAt: Date.now(),
      })
      .onConflictDoNothing();
    // Provider calls in batches: D1 binds at most 100 parameters per statement (10 per row here).
    const calls = this.sql.exec<{ step: number; provider: string; purpose: string; requests: number; samples: number; prompt_tokens: number; completion_tokens: number; latency_ms: number; status: string; cost: number }>("SELECT * FROM calls ORDER BY rowid").toArray();
    const db = drizzle(this.env.DB);
    const inserts = [];
    for (let i = 0; i < calls.length; i += 9) {
      inserts.push(
        db.insert(providerCalls).values(
          calls.slice(i, i + 9).map((c) => ({
            solveId: meta.input.id,
            step: c.step,
            provider: c.provider,
            purpose: c.purpose,
            requests: c.requests,
            samples: c.samples,
            promptTokens: c.prompt_tokens,
            completionTokens: c.completion_tokens,
            latencyMs: c.latency_ms,
            status: c.status,
            cost: c.cost,
          })),
        ),
      );
    }
    if (inserts.length > 0) await db.batch(inserts as [(typeof inserts)[number], ...(typeof inserts)[number][]]);
    await this.ctx.storage.put("recorded", true);
  }
}
