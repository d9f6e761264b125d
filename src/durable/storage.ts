/**
 * A SolveSession's durable state, under typed keys of its storage. Every value here is small and bounded
 * (the spec, the executor state, one step's results), written by the alarm and read by RPC.
 */
import type { Execution, StepJournal, StepResults } from "../engine/executor";
import type { Budget } from "../engine/budget";
import type { StrategySpec } from "../engine/strategies";

/** What the edge handler hands a new solve. */
export interface StartInput {
  id: string;
  prompt: string;
  spec: StrategySpec;
  budget: Budget;
  seed: number;
}

export interface SolveMeta {
  input: StartInput;
  createdAt: number;
}

interface Keys {
  meta: SolveMeta;
  exec: Execution;
  /** A step's results, kept between the provider calls and the commit of the new state. */
  pending: StepResults;
  cancelRequested: true;
  /** The solve's summary and calls are in D1. */
  recorded: true;
}

export class SolveStorage implements StepJournal {
  constructor(private readonly storage: DurableObjectStorage) {}

  get<K extends keyof Keys>(key: K): Promise<Keys[K] | undefined> {
    return this.storage.get<Keys[K]>(key);
  }

  put<K extends keyof Keys>(key: K, value: Keys[K]): Promise<void> {
    return this.storage.put(key, value);
  }

  /** Meta and execution together, or null for an object that holds no solve. */
  async load(): Promise<{ meta: SolveMeta; exec: Execution } | null> {
    const got = await this.storage.get<SolveMeta | Execution>(["meta", "exec"]);
    const meta = got.get("meta") as SolveMeta | undefined;
    const exec = got.get("exec") as Execution | undefined;
    return meta && exec ? { meta, exec } : null;
  }

  async create(meta: SolveMeta, exec: Execution): Promise<void> {
    await this.storage.put({ meta, exec });
  }

  /** The step's new state; its kept results are no longer needed. */
  async commit(exec: Execution): Promise<void> {
    await this.storage.put("exec", exec);
    await this.storage.delete("pending");
  }

  async recall(step: number): Promise<StepResults | undefined> {
    const pending = await this.get("pending");
    return pending?.step === step ? pending : undefined;
  }

  keep(entry: StepResults): Promise<void> {
    return this.put("pending", entry);
  }
}
