/**
 * The re-tune as the service runs it, from the cron trigger or a request: read the labelled outcomes from D1,
 * refit (pure, `retune.ts`), store the candidate with its evaluation whatever is decided (the history), and move
 * the active pointer to it only when it wins and the pointer has not moved meanwhile.
 *
 * Learning is isolated (docs/policy-isolation.md): a tenant's re-tune learns only from that tenant's own
 * outcomes, with the global policy's evidence as its prior, and moves only that tenant's pointer; the global
 * re-tune learns only from tenants the operator marked trusted, each capped to a share of the fit.
 */
import {
  countOutcomesSince,
  FOLLOWS_GLOBAL,
  labelledOutcomes,
  lastRetuneAt,
  storeAndMove,
  tenantsDue,
  type PolicyScope,
  type SourcedOutcome,
} from "../db/policies";
import { hashString } from "../engine/random";
import { activePolicy, activePolicyFor } from "./active";
import { retunePolicy, type PolicyEvaluation } from "../policy/retune";
import { configuredPolicy } from "../policy/configured";
import { capPerSource } from "./sources";

/** The newest outcomes a re-tune reads at most: bounded so a refit stays within a Worker's CPU time. */
export const MAX_RETUNE_OUTCOMES = 4000;

export interface RetuneSettings {
  /** Labelled outcomes (from trusted sources, after the cap) the global re-tune needs in all. */
  minOutcomes: number;
  /** New labelled outcomes since the last re-tune (of that scope) before the cron tries again. */
  minNewOutcomes: number;
  /** A tenant's own labelled outcomes before it gets a policy of its own; until then it follows the global one. */
  tenantMinOutcomes: number;
  /** The largest share of the global fit's outcomes any one trusted tenant may contribute (0 < share ≤ 1). */
  maxSourceShare: number;
  /** Tenants the cron re-tunes at most per run (the most new outcomes first): bounded work per run. */
  tenantsPerRun: number;
}

export function retuneSettings(env: Env): RetuneSettings {
  const vars = env as unknown as Record<string, unknown>;
  const num = (v: unknown, fallback: number) => {
    const n = Number(v);
    return Number.isInteger(n) && n > 0 ? n : fallback;
  };
  const share = Number(vars.GLOBAL_SOURCE_MAX_SHARE);
  const minOutcomes = num(vars.RETUNE_MIN_OUTCOMES, 200);
  return {
    minOutcomes,
    minNewOutcomes: num(vars.RETUNE_MIN_NEW_OUTCOMES, 100),
    tenantMinOutcomes: num(vars.TENANT_RETUNE_MIN_OUTCOMES, minOutcomes),
    maxSourceShare: share > 0 && share <= 1 ? share : 0.5,
    tenantsPerRun: num(vars.RETUNE_TENANTS_PER_RUN, 5),
  };
}

/** For the global fit: what each trusted tenant offered and what the cap admitted. */
export interface SourceShare {
  tenantId: string;
  offered: number;
  admitted: number;
}

interface ReportScope {
  /** Whose policy: a tenant id, or null for the global one. */
  tenantId: string | null;
  /** The global fit only: the trusted sources and what the per-source cap admitted of each. */
  sources?: SourceShare[];
}

export type RetuneReport = ReportScope &
  (
    | { retuned: false; outcomes: number; reason: string }
    | {
        retuned: true;
        version: string;
        parent: string;
        outcomes: number;
        promoted: boolean;
        reason: string;
        evaluation: PolicyEvaluation;
      }
  );

/** The outcomes a scope learns from: a tenant's own, or the trusted tenants' with each capped to its share. */
async function outcomesFor(
  env: Env,
  scope: PolicyScope,
  settings: RetuneSettings,
): Promise<{ rows: SourcedOutcome[]; sources?: SourceShare[]; note: string }> {
  if (scope !== null)
    return { rows: await labelledOutcomes(env.DB, MAX_RETUNE_OUTCOMES, { tenantId: scope }), note: "" };
  const offered = await labelledOutcomes(env.DB, MAX_RETUNE_OUTCOMES, { trusted: true });
  const capped = capPerSource(offered, (r) => r.tenantId ?? "", settings.maxSourceShare);
  const sources = capped.sources.map((s) => ({ tenantId: s.source, offered: s.offered, admitted: s.admitted }));
  const note =
    capped.admitted.length < offered.length
      ? ` (trusted tenants offered ${offered.length} from ${sources.length} source${sources.length === 1 ? "" : "s"}; no source may give more than ${Math.round(100 * settings.maxSourceShare)}% of the fit, so ${capped.perSource} per source were admitted)`
      : ` (from ${sources.length} trusted tenant${sources.length === 1 ? "" : "s"})`;
  return { rows: capped.admitted, sources, note };
}

/**
 * Re-tune one scope's policy now: null for the global policy (trusted sources only), or a tenant id for that
 * tenant's own (its outcomes only, the global active policy as its prior, its own active version or the global
 * one as the rival).
 */
export async function runRetune(
  env: Env,
  actor: "cron" | "admin" | "tenant",
  scope: PolicyScope = null,
  now = Date.now(),
): Promise<RetuneReport> {
  const settings = retuneSettings(env);
  const global = (await activePolicy(env)).policy;
  const current = scope === null ? { policy: global, scope: "global" as const } : await activePolicyFor(env, scope);
  const active = current.policy;
  const { rows, sources, note } = await outcomesFor(env, scope, settings);
  const shown = { tenantId: scope, ...(sources ? { sources } : {}) };
  const createdAt = new Date(now).toISOString();
  // Seeded by what it learns from, so a re-tune of the same outcomes is reproducible.
  const seed = hashString(`${scope ?? ""}:${active.version}:${rows.length}:${rows[0]?.solveId ?? ""}`);
  const stamp = createdAt.replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  // A tenant's versions carry its id: a solve's `policy.policyVersion` shows whose policy decided it.
  const name = `retune-${stamp}-${(seed >>> 0).toString(16).padStart(8, "0").slice(0, 6)}`;
  const result = retunePolicy(active, rows, {
    version: scope === null ? name : `${scope}/${name}`,
    createdAt,
    seed,
    minOutcomes: scope === null ? settings.minOutcomes : settings.tenantMinOutcomes,
    prior: global,
  });
  if (!result.ok) return { ...shown, retuned: false, outcomes: result.outcomes, reason: `${result.reason}${note}` };
  const version = result.candidate.version;
  const stored = {
    version,
    tenantId: scope,
    document: JSON.stringify(result.candidate),
    kind: "retune",
    parent: active.version,
    outcomes: result.outcomes,
    evaluation: JSON.stringify(result.evaluation),
    decision: result.promote ? ("promoted" as const) : ("rejected" as const),
    reason: `${result.reason}${note}`,
    createdAt: now,
  };
  const from = current.scope === "tenant" || scope === null ? active.version : FOLLOWS_GLOBAL;
  const move = result.promote
    ? { from, to: version, action: "promote" as const, actor, shipped: configuredPolicy(env).version, tenantId: scope }
    : null;
  const { moved } = await storeAndMove(env.DB, stored, move, now);
  const report = {
    ...shown,
    retuned: true as const,
    version,
    parent: active.version,
    outcomes: result.outcomes,
    promoted: result.promote,
    reason: stored.reason,
    evaluation: result.evaluation,
  };
  if (result.promote && !moved) {
    // Another re-tune or a rollback moved the pointer while this one ran: it was compared with a policy no longer active.
    await env.DB.prepare("UPDATE policy_versions SET decision = 'rejected', reason = ? WHERE version = ?")
      .bind(`superseded: the active policy changed from ${active.version} while this re-tune ran`, version)
      .run();
    return { ...report, promoted: false, reason: "superseded: the active policy changed while this re-tune ran" };
  }
  return report;
}

export interface ScheduledReport {
  global: RetuneReport;
  /** The tenants re-tuned this run (at most `tenantsPerRun`, those with the most new outcomes first). */
  tenants: RetuneReport[];
}

/**
 * The cron trigger: re-tune each tenant with enough labelled outcomes of its own and enough new ones since its
 * last re-tune (at most `tenantsPerRun` per run; the rest wait for the next), then the global policy when
 * enough new outcomes from trusted tenants arrived.
 */
export async function scheduledRetune(env: Env, now = Date.now()): Promise<ScheduledReport> {
  const settings = retuneSettings(env);
  const due = await tenantsDue(env.DB, settings.tenantMinOutcomes, settings.minNewOutcomes, settings.tenantsPerRun);
  const tenants: RetuneReport[] = [];
  // One at a time: each refit is CPU-bound, and a tenant's failure must not stop the others or the global fit.
  for (const t of due) {
    try {
      tenants.push(await runRetune(env, "cron", t.tenantId, now));
    } catch (err) {
      tenants.push({
        tenantId: t.tenantId,
        retuned: false,
        outcomes: t.total,
        reason: `failed: ${err instanceof Error ? err.message : String(err)}`,
      });
    }
  }
  const fresh = await countOutcomesSince(env.DB, await lastRetuneAt(env.DB, null), { trusted: true });
  const global: RetuneReport =
    fresh < settings.minNewOutcomes
      ? {
          tenantId: null,
          retuned: false,
          outcomes: fresh,
          reason: `${fresh} new labelled outcomes from trusted tenants since the last global re-tune; the cron waits for ${settings.minNewOutcomes}`,
        }
      : await runRetune(env, "cron", null, now);
  return { global, tenants };
}
