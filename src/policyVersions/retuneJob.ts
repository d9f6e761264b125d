/**
 * The re-tune as the service runs it, from the cron trigger or an admin's request: read the labelled
 * outcomes from D1, refit (pure, `retune.ts`), store the candidate with its evaluation whatever is decided
 * (the history), and move the active pointer to it only when it wins and the pointer has not moved meanwhile.
 */
import { countOutcomesSince, lastRetuneAt, labelledOutcomes, storeAndMove } from "../db/policies";
import { hashString } from "../engine/random";
import { activePolicy } from "./active";
import { retunePolicy, type PolicyEvaluation } from "../policy/retune";
import { configuredPolicy } from "../policy/configured";

/** The newest outcomes a re-tune reads at most: bounded so a refit stays within a Worker's CPU time. */
export const MAX_RETUNE_OUTCOMES = 4000;

export interface RetuneSettings {
  /** Labelled outcomes a re-tune needs in all. */
  minOutcomes: number;
  /** New labelled outcomes since the last re-tune before the cron tries again. */
  minNewOutcomes: number;
}

export function retuneSettings(env: Env): RetuneSettings {
  const num = (v: unknown, fallback: number) => {
    const n = Number(v);
    return Number.isInteger(n) && n > 0 ? n : fallback;
  };
  const vars = env as unknown as Record<string, unknown>;
  return { minOutcomes: num(vars.RETUNE_MIN_OUTCOMES, 200), minNewOutcomes: num(vars.RETUNE_MIN_NEW_OUTCOMES, 100) };
}

export type RetuneReport =
  | { retuned: false; outcomes: number; reason: string }
  | {
      retuned: true;
      version: string;
      parent: string;
      outcomes: number;
      promoted: boolean;
      reason: string;
      evaluation: PolicyEvaluation;
    };

export async function runRetune(env: Env, actor: "cron" | "admin", now = Date.now()): Promise<RetuneReport> {
  const settings = retuneSettings(env);
  const { policy: active } = await activePolicy(env);
  const rows = await labelledOutcomes(env.DB, MAX_RETUNE_OUTCOMES);
  const createdAt = new Date(now).toISOString();
  // Seeded by what it learns from, so a re-tune of the same outcomes is reproducible.
  const seed = hashString(`${active.version}:${rows.length}:${rows[0]?.solveId ?? ""}`);
  const stamp = createdAt.replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  const result = retunePolicy(active, rows, {
    version: `retune-${stamp}-${(seed >>> 0).toString(16).padStart(8, "0").slice(0, 6)}`,
    createdAt,
    seed,
    minOutcomes: settings.minOutcomes,
  });
  if (!result.ok) return { retuned: false, outcomes: result.outcomes, reason: result.reason };
  const version = result.candidate.version;
  const stored = {
    version,
    document: JSON.stringify(result.candidate),
    kind: "retune",
    parent: active.version,
    outcomes: result.outcomes,
    evaluation: JSON.stringify(result.evaluation),
    decision: result.promote ? ("promoted" as const) : ("rejected" as const),
    reason: result.reason,
    createdAt: now,
  };
  const move = result.promote
    ? { from: active.version, to: version, action: "promote" as const, actor, shipped: configuredPolicy(env).version }
    : null;
  const { moved } = await storeAndMove(env.DB, stored, move, now);
  if (result.promote && !moved) {
    // Another re-tune or a rollback moved the pointer while this one ran: it was compared with a policy no longer active.
    await env.DB.prepare("UPDATE policy_versions SET decision = 'rejected', reason = ? WHERE version = ?")
      .bind(`superseded: the active policy changed from ${active.version} while this re-tune ran`, version)
      .run();
    return {
      retuned: true,
      version,
      parent: active.version,
      outcomes: result.outcomes,
      promoted: false,
      reason: "superseded: the active policy changed while this re-tune ran",
      evaluation: result.evaluation,
    };
  }
  return {
    retuned: true,
    version,
    parent: active.version,
    outcomes: result.outcomes,
    promoted: result.promote,
    reason: result.reason,
    evaluation: result.evaluation,
  };
}

/** The cron trigger: re-tune only when enough new labelled outcomes arrived since the last attempt. */
export async function scheduledRetune(env: Env, now = Date.now()): Promise<RetuneReport> {
  const settings = retuneSettings(env);
  const fresh = await countOutcomesSince(env.DB, await lastRetuneAt(env.DB));
  if (fresh < settings.minNewOutcomes)
    return {
      retuned: false,
      outcomes: fresh,
      reason: `${fresh} new labelled outcomes since the last re-tune; the cron waits for ${settings.minNewOutcomes}`,
    };
  return runRetune(env, "cron", now);
}
