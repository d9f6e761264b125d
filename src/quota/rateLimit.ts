/**
 * A token bucket per key: `perMinute` requests, refilled continuously, so a burst of a minute's worth is
 * allowed and the sustained rate is `perMinute`. Pure: the caller keeps the bucket and the clock.
 */
export interface Bucket {
  tokens: number;
  at: number;
}

export type Admission = { ok: true; bucket: Bucket } | { ok: false; bucket: Bucket; retryAfterSeconds: number };

export function admit(bucket: Bucket | undefined, perMinute: number, now: number): Admission {
  const perMs = perMinute / 60_000;
  const tokens = bucket ? Math.min(perMinute, bucket.tokens + (now - bucket.at) * perMs) : perMinute;
  if (tokens >= 1) return { ok: true, bucket: { tokens: tokens - 1, at: now } };
  return {
    ok: false,
    bucket: { tokens, at: now },
    retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / perMs / 1000)),
  };
}
