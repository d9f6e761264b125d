/**
 * Closing event streams, batched: a stream that ends gives back its key's lease (KeyQuota) and its solve's
 * subscriber (SolveSession). Done one call each per stream, 200 streams whose clients left together cost
 * several times what their own teardown does; so the ids are gathered for a moment in this isolate and sent
 * as one call per key and one per solve. The first stream to end holds the flush in its waitUntil.
 */

const FLUSH_AFTER_MS = 50;

const pending = { leases: new Map<string, string[]>(), subscribers: new Map<string, string[]>() };
/** When the pending flush was scheduled: one that never ran (its request torn down) is replaced. */
let scheduledAt: number | undefined;

function add(map: Map<string, string[]>, owner: string, id: string): void {
  const ids = map.get(owner);
  if (ids) ids.push(id);
  else map.set(owner, [id]);
}

/** Give back `lease` (also the subscriber's id) of `keyId` and, unless its stream ended there, `solveId`. */
export function releaseStream(
  env: Env,
  ctx: { waitUntil(p: Promise<unknown>): void },
  o: { keyId: string; lease: string; solveId?: string },
): void {
  add(pending.leases, o.keyId, o.lease);
  if (o.solveId !== undefined) add(pending.subscribers, o.solveId, o.lease);
  const now = Date.now();
  if (scheduledAt !== undefined && now - scheduledAt < 10 * FLUSH_AFTER_MS) return;
  scheduledAt = now;
  ctx.waitUntil(flush(env));
}

async function flush(env: Env): Promise<void> {
  await new Promise((r) => setTimeout(r, FLUSH_AFTER_MS));
  scheduledAt = undefined;
  const leases = [...pending.leases];
  const subscribers = [...pending.subscribers];
  pending.leases.clear();
  pending.subscribers.clear();
  // Stubs made here, in the flushing request: a stub belongs to the request that made it.
  await Promise.allSettled([
    ...leases.map(([keyId, ids]) => env.KEY_QUOTA.get(env.KEY_QUOTA.idFromName(keyId)).closeStreams(ids)),
    ...subscribers.map(([solveId, ids]) =>
      env.SOLVE_SESSION.get(env.SOLVE_SESSION.idFromName(solveId)).unsubscribe(ids),
    ),
  ]);
}
