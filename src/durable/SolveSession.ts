/**
 * SolveSession: one Durable Object per solve, a thin host around the engine's `executeStep` (through the
 * policy's `executeProbedStep`, which runs an auto solve's probe). It keeps the solve's state in storage
 * (`storage.ts`), runs one executor step per alarm, commits each step's new state
 * together with its provider calls and progress event, and records the finished solve in D1. Provider
 * results are kept before they are absorbed, so a step retried after eviction or a crash reuses what was
 * already paid for. RPC methods return result objects rather than throwing.
 */
import { DurableObject } from "cloudflare:workers";
import { toSolveView } from "../solve/view";
import type { SolveView } from "../solve/schemas";
import { recordSolve } from "../db/recordSolve";
import { startExecution, stopExecution, type RefusedField } from "../engine/executor";
import type { StepIntent, StepResults } from "../engine/executeStep";
import { describeSpec } from "../engine/strategies";
import {
  abandonProbedStep,
  executeProbedStep,
  probeLabel,
  startProbe,
  type ProbedExecution,
  type ProbedStepReport,
} from "../policy/probeStep";
import { providersFromEnv } from "../wiring/providers";
import { topChoices, type Choice, type SpendDetail } from "../solve/choices";
import { WebhookDispatcher } from "../webhooks/dispatcher";
import { Outbox } from "../webhooks/outbox";
import { CallLog } from "./callLog";
import { EventLog, type SolveEvent } from "./eventLog";
import type { SolveMeta, StartInput } from "../solve/input";
import { SolveStorage } from "./storage";
import { Subscribers } from "./subscribers";

/** `field`: the budget field an `invalid` start refused. */
export type RpcResult<T> =
  | { ok: true; value: T }
  | { ok: false; error: string; code: "not_found" | "conflict" | "invalid"; field?: RefusedField };

/** A solve stalled this long (its invocation died) is resumed by the watchdog alarm. */
const WATCHDOG_MS = 120_000;
/** Work per alarm invocation, well inside the platform's limits on wall time and subrequests. */
const SLICE_MS = 10_000;
const MAX_STEPS_PER_INVOCATION = 200;

/**
 * Provider requests one invocation may make (SUBREQUESTS_PER_INVOCATION): the platform caps outbound
 * requests per invocation, and retries and the D1 write need room beside the planned calls.
 */
function subrequestLimit(env: Env): number {
  const n = Number(env.SUBREQUESTS_PER_INVOCATION);
  return Number.isInteger(n) && n > 0 ? n : 800;
}

export class SolveSession extends DurableObject<Env> {
  private readonly store: SolveStorage;
  private readonly events: EventLog;
  private readonly calls: CallLog;
  private readonly outbox: Outbox;
  private readonly webhooks: WebhookDispatcher;
  /** When this instance last set the alarm for a step (in memory: unknown after eviction), for scheduling delay. */
  private alarmSetAt?: number;
  /** Callers waiting for this solve to end (sync requests); in memory, so a caller falls back to polling. */
  private readonly waiters = new Set<() => void>();
  /** An alarm invocation of this instance is running its steps. */
  private stepping = false;
  /** Aborts the provider calls of the step in flight when the solve is cancelled. */
  private readonly inFlight = new AbortController();
  /** Open event streams (GET /v1/solves/{id}/events), written to as events are appended. */
  private readonly subscribers = new Subscribers();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // Schema on wake: cheap and idempotent.
    this.store = new SolveStorage(ctx.storage);
    this.events = new EventLog(ctx.storage.sql);
    this.calls = new CallLog(ctx.storage.sql);
    this.outbox = new Outbox(ctx.storage.sql);
    this.webhooks = new WebhookDispatcher(env, this.outbox);
  }

  /**
   * Start the solve. Starting it again with the same input (an idempotent request retried, or two racing)
   * answers with the solve as it is; different input under the same id is a conflict.
   */
  async start(input: StartInput): Promise<RpcResult<SolveView>> {
    const existing = await this.store.load();
    if (existing) {
      if (JSON.stringify(existing.meta.input) === JSON.stringify(input))
        return { ok: true, value: this.view(existing.meta, existing.exec) };
      return { ok: false, code: "conflict", error: `solve ${input.id} already exists` };
    }
    const wired = providersFromEnv(this.env.PROVIDERS, this.env as unknown as Record<string, unknown>);
    if (!wired.ok) return { ok: false, code: "invalid", error: `configuration error: ${wired.error}` };
    const problem = {
      question: input.prompt,
      ...(input.context ? { context: input.context } : {}),
      ...(input.stop ? { stop: input.stop } : {}),
    };
    const started = startExecution(problem, input.spec, input.budget, input.seed, wired.wired.costs);
    if (!started.ok) return { ok: false, code: "invalid", error: started.error, field: started.field };
    const meta: SolveMeta = { input, createdAt: Date.now() };
    // A policy that probes first: the execution runs the probe, and chooses its arm once the probe is scored.
    const execution = input.probe ? startProbe(started.execution, input.probe) : started.execution;
    await this.store.create(meta, execution);
    this.emit("started", {
      strategy: input.probe ? probeLabel(input.probe.policy.probe?.samples ?? 0) : describeSpec(input.spec),
    });
    await this.alarmNextStep();
    return { ok: true, value: this.view(meta, execution) };
  }

  /** `tenantId`: the caller; another tenant's solve answers as if it did not exist. */
  async status(tenantId?: string): Promise<RpcResult<SolveView>> {
    const solve = await this.store.load();
    if (!solve || !owns(solve.meta, tenantId)) return { ok: false, code: "not_found", error: "no such solve" };
    return { ok: true, value: this.view(solve.meta, solve.exec) };
  }

  /**
   * Ask the solve to stop. The alarm is the only writer of the solve's state: it finishes a step that is in
   * flight (so what the providers billed is counted), then stops with the best answer so far and records it
   * in D1 with the platform's alarm retries behind it.
   */
  async cancel(tenantId?: string): Promise<RpcResult<SolveView>> {
    const solve = await this.store.load();
    if (!solve || !owns(solve.meta, tenantId)) return { ok: false, code: "not_found", error: "no such solve" };
    if (solve.exec.status === "running") {
      await this.store.put("cancelRequested", true);
      // The step in flight stops now rather than when its calls return; their possible cost is charged.
      this.inFlight.abort();
      await this.alarmNextStep();
    }
    return { ok: true, value: this.view(solve.meta, solve.exec) };
  }

  /** The solve's view with its `n` best distinct answers (for chat completions). */
  async choices(
    tenantId: string,
    n: number,
  ): Promise<
    RpcResult<{
      view: SolveView;
      choices: Choice[];
      spend: SpendDetail;
      request: Pick<StartInput, "user" | "metadata" | "response">;
    }>
  > {
    const solve = await this.store.load();
    if (!solve || !owns(solve.meta, tenantId)) return { ok: false, code: "not_found", error: "no such solve" };
    const { tokens, generatorPromptTokens } = solve.exec.ledger;
    return {
      ok: true,
      value: {
        view: this.view(solve.meta, solve.exec),
        choices: topChoices(solve.exec.outcome, n),
        spend: { tokens, generatorPromptTokens },
        request: {
          user: solve.meta.input.user,
          metadata: solve.meta.input.metadata,
          response: solve.meta.input.response,
        },
      },
    };
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

  /** Events after `after` (for server-sent events and reconnection with Last-Event-ID). */
  async eventsAfter(after = 0): Promise<SolveEvent[]> {
    return this.events.after(after);
  }

  /**
   * Follow the solve's events: those after `after` (Last-Event-ID), then each new one as it is appended, as
   * server-sent events on a byte stream that ends after `done`. Cancelling the stream (the client left)
   * drops the subscription here at the next event; `unsubscribe(id)` drops it at once. `ended`: the solve is
   * over and there is nothing after `after` to send.
   */
  async subscribe(
    tenantId: string,
    id: string,
    after = 0,
  ): Promise<RpcResult<{ stream: ReadableStream<Uint8Array> } | { ended: true }>> {
    const solve = await this.store.load();
    if (!solve || !owns(solve.meta, tenantId)) return { ok: false, code: "not_found", error: "no such solve" };
    // From here on synchronous: no event can be appended between the backlog and the subscription.
    const backlog = this.events.after(after);
    if (solve.exec.status === "done" && backlog.length === 0) return { ok: true, value: { ended: true } };
    return { ok: true, value: { stream: this.subscribers.subscribe(id, backlog) } };
  }

  /** These subscribers' clients left (the edge batches them). */
  async unsubscribe(ids: string[]): Promise<void> {
    for (const id of ids) this.subscribers.unsubscribe(id);
  }

  /** How many event streams are open on this solve (for tests and diagnostics). */
  async subscriberCount(): Promise<number> {
    return this.subscribers.size;
  }

  /**
   * Executor steps, several per invocation: each step's new state, its provider calls and its event are
   * committed before the next begins, so a crash loses at most the step in flight (whose intent is
   * journaled). A watchdog alarm set first resumes the solve if this invocation dies; the work per
   * invocation is bounded by time and by steps. An unexpected error (a storage limit, a bug) fails the
   * solve cleanly with the best answer it had, rather than leaving it running or retrying its calls.
   */
  override async alarm(): Promise<void> {
    // The watchdog may fire while this instance is still stepping (tests also run alarms by hand): one loop.
    if (this.stepping) return;
    this.stepping = true;
    try {
      await this.runSlice();
    } finally {
      this.stepping = false;
    }
  }

  private async runSlice(): Promise<void> {
    const began = Date.now();
    const solve = await this.store.load();
    if (!solve) return;
    if (solve.exec.status === "done") {
      // Finished: the D1 write failed last time (the platform retried the alarm), or webhooks are due.
      await this.record(solve.meta, solve.exec);
      await this.webhooks.deliverDue(solve.meta.input.tenantId);
      await this.alarmForWebhooks();
      return;
    }
    await this.ctx.storage.setAlarm(began + WATCHDOG_MS);
    const perInvocation = subrequestLimit(this.env);
    let left = perInvocation;
    let exec = solve.exec;
    for (
      let steps = 0;
      exec.status === "running" && steps < MAX_STEPS_PER_INVOCATION && Date.now() - began < SLICE_MS;
      steps++
    ) {
      const stepBegan = Date.now();
      let report: ProbedStepReport;
      try {
        report = await this.step(exec, solve.meta.input.id, { left, perInvocation });
      } catch (err) {
        report = this.abandon(exec, `internal error: ${err instanceof Error ? err.message : String(err)}`);
      }
      left -= report.subrequests;
      // A step split across invocations: its progress is in the journal; the next invocation goes on.
      if (report.yielded) break;
      // The step that finished an auto solve's probe chose its arm: its event says which.
      const decided =
        exec.probe?.phase === "probing" && report.exec.probe?.phase === "decided"
          ? { policy: { state: "decided", ...report.exec.probe.decision } }
          : {};
      exec = report.exec;
      // Scheduling delay only for the invocation's first step: the others follow without an alarm.
      const scheduled = steps === 0 && this.alarmSetAt !== undefined ? { scheduledMs: began - this.alarmSetAt } : {};
      const timing = { ...scheduled, stepMs: Date.now() - stepBegan, providerMs: report.providerMs };
      this.calls.append(report.calls);
      this.emit(exec.status === "done" ? "done" : "step", {
        steps: exec.steps,
        spend: exec.ledger,
        timing,
        invocation: began,
        subrequests: perInvocation - left,
        ...decided,
        ...(exec.stopReason ? { stopReason: exec.stopReason } : {}),
      });
      this.store.commit(exec);
      await this.charge(solve.meta, exec);
    }
    if (exec.status === "running") return this.alarmNextStep();
    if (exec.stopReason === "failed") console.error(`solve ${solve.meta.input.id} failed: ${exec.detail}`);
    // The watchdog alarm stays set until D1 has the record: a failed write is tried again. Waiters are
    // woken after it, so an answered caller finds the solve settled with its quota and recorded.
    try {
      await this.record(solve.meta, exec);
      await this.alarmForWebhooks();
    } finally {
      this.wake();
    }
  }

  private async step(
    exec: ProbedExecution,
    id: string,
    subrequests: { left: number; perInvocation: number },
  ): Promise<ProbedStepReport> {
    const wired = providersFromEnv(this.env.PROVIDERS, this.env as unknown as Record<string, unknown>);
    // A configuration error is the operator's, but the solve must still end cleanly.
    if (!wired.ok)
      return {
        exec: stopExecution(exec, "failed", `configuration error: ${wired.error}`),
        calls: [],
        providerMs: 0,
        subrequests: 0,
      };
    return executeProbedStep(exec, {
      ...wired.wired,
      now: Date.now,
      journal: this.store,
      requestKey: id,
      subrequests,
      cancelRequested: async () => (await this.store.get("cancelRequested")) === true,
      signal: this.inFlight.signal,
    });
  }

  /**
   * Fail the solve after an unexpected error (a storage limit, a bug), charging what its step's journal
   * shows was paid for, and without the candidates, so that the final state fits whatever made the step fail.
   */
  private abandon(exec: ProbedExecution, detail: string): ProbedStepReport {
    const wired = providersFromEnv(this.env.PROVIDERS, this.env as unknown as Record<string, unknown>);
    let entry: StepIntent | StepResults | undefined;
    try {
      entry = this.store.read("pending");
    } catch {
      entry = undefined;
    }
    const report = wired.ok
      ? abandonProbedStep(exec, entry, wired.wired.costs, detail)
      : { exec: stopExecution(exec, "failed", detail), calls: [], providerMs: 0, subrequests: 0 };
    const stopped = report.exec;
    return {
      ...report,
      exec: { ...stopped, ...(stopped.outcome ? { outcome: { ...stopped.outcome, candidates: [] } } : {}) },
    };
  }

  /** Log an event and push it to the open streams. */
  private emit(type: string, data: unknown): void {
    this.subscribers.publish(this.events.append(type, data));
  }

  private async alarmNextStep(): Promise<void> {
    this.alarmSetAt = Date.now();
    await this.ctx.storage.setAlarm(this.alarmSetAt);
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  private view(meta: SolveMeta, exec: ProbedExecution): SolveView {
    return toSolveView(
      {
        id: meta.input.id,
        spec: meta.input.spec,
        createdAt: meta.createdAt,
        policy: meta.input.policy,
        budget: meta.input.budget,
      },
      exec,
    );
  }

  private quota(meta: SolveMeta) {
    return this.env.KEY_QUOTA.get(this.env.KEY_QUOTA.idFromName(meta.input.keyId));
  }

  /**
   * Spend so far against the key's daily caps. Its reservation already covers it, so a failed charge only
   * delays what the key's usage shows; it is logged, not fatal.
   */
  private async charge(meta: SolveMeta, exec: ProbedExecution): Promise<void> {
    // A solve started before keys existed has no quota to charge.
    if (!meta.input.keyId) return;
    try {
      await this.quota(meta).charge(meta.input.id, { tokens: exec.ledger.tokens, money: exec.ledger.money });
    } catch (err) {
      console.error(`quota charge for solve ${meta.input.id} failed:`, err);
    }
  }

  /** The final spend settled with the key's quota and the solve's records in D1, each once. */
  private async record(meta: SolveMeta, exec: ProbedExecution): Promise<void> {
    if (!(await this.store.get("settled")) && meta.input.keyId) {
      await this.quota(meta).settle(meta.input.id, { tokens: exec.ledger.tokens, money: exec.ledger.money });
      await this.store.put("settled", true);
    }
    if (await this.store.get("recorded")) return;
    await recordSolve(this.env.DB, meta, exec, this.calls.all(), Date.now());
    await this.store.put("recorded", true);
    if (meta.input.webhook && !(await this.store.get("webhookQueued"))) {
      await this.webhooks.enqueue(meta.input.tenantId, meta.input.webhook.url, this.view(meta, exec));
      await this.store.put("webhookQueued", true);
    }
  }

  /** After the end: the alarm stays only for webhooks still to send. */
  private async alarmForWebhooks(): Promise<void> {
    const next = this.outbox.earliest();
    if (next === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(next);
  }

  /** Send a logged webhook message again (a replay asked for by its tenant), keeping its webhook-id. */
  async replayWebhook(
    tenantId: string,
    message: { id: string; url: string; body: string; attempts: number },
  ): Promise<RpcResult<true>> {
    const solve = await this.store.load();
    if (!solve || !owns(solve.meta, tenantId)) return { ok: false, code: "not_found", error: "no such solve" };
    this.outbox.put({ ...message, nextAt: Date.now() });
    await this.alarmForWebhooks();
    return { ok: true, value: true };
  }
}

/** A caller of `undefined` is the service itself (tests and internal callers). */
function owns(meta: SolveMeta, tenantId: string | undefined): boolean {
  return tenantId === undefined || meta.input.tenantId === tenantId;
}
