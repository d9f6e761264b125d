/**
 * API keys: 256 random bits, shown once at creation and stored as their SHA-256 (a key is as strong as a
 * random secret, so a fast hash loses nothing and lets a request find its key by index). Used by the Worker
 * and by `npm run keys` in Node (both have WebCrypto).
 */

export const KEY_PREFIX = "ttc_";

/** Limits and defaults a key gets unless its creator says otherwise. */
export const DEFAULT_KEY_LIMITS = {
  ratePerMinute: 120,
  tokensPerDay: 5_000_000,
  moneyPerDay: 10,
  defaultSolveTokens: 200_000,
  defaultSolveMoney: 1,
} as const;

export type KeyLimits = { -readonly [K in keyof typeof DEFAULT_KEY_LIMITS]: number };

function base64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function generateApiKey(): string {
  return KEY_PREFIX + base64url(crypto.getRandomValues(new Uint8Array(32)));
}

export async function hashApiKey(key: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** What listings show of a key: enough to tell keys apart, far too little to use. */
export function keyPrefix(key: string): string {
  return key.slice(0, KEY_PREFIX.length + 6);
}

/**
 * A new key's limits from what its creator gave: the rest default, a per-solve default left out is the
 * usual one clipped to the daily cap, and a per-solve default given larger than its daily cap is refused
 * (a request naming no budget could never run under it).
 */
export function resolveKeyLimits(
  given: Partial<KeyLimits>,
): { ok: true; limits: KeyLimits } | { ok: false; error: string } {
  const limits: KeyLimits = { ...DEFAULT_KEY_LIMITS, ...given };
  for (const [solve, day, unit] of [
    ["defaultSolveTokens", "tokensPerDay", ""],
    ["defaultSolveMoney", "moneyPerDay", "$"],
  ] as const) {
    if (given[solve] === undefined) limits[solve] = Math.min(DEFAULT_KEY_LIMITS[solve], limits[day]);
    else if (limits[solve] > limits[day])
      return {
        ok: false,
        error: `limits.${solve}: ${unit}${limits[solve]} is more than limits.${day} (${unit}${limits[day]}); a solve that names no budget gets limits.${solve}, so it must fit in a day (leave it out to get min(${unit}${DEFAULT_KEY_LIMITS[solve]}, limits.${day}))`,
      };
  }
  return { ok: true, limits };
}

export interface NewKey {
  /** The key itself: returned once, never stored. */
  key: string;
  row: { id: string; tenantId: string; name: string; hash: string; prefix: string; createdAt: number } & KeyLimits;
}

export async function newKey(
  tenantId: string,
  name: string,
  limits: Partial<KeyLimits> = {},
  now = Date.now(),
): Promise<NewKey> {
  const key = generateApiKey();
  return {
    key,
    row: {
      id: `key_${crypto.randomUUID()}`,
      tenantId,
      name,
      hash: await hashApiKey(key),
      prefix: keyPrefix(key),
      createdAt: now,
      // Defaults left out are clipped to the daily caps; a default given larger is kept (callers that take
      // limits from users refuse it first with `resolveKeyLimits`; requests clip it to what is left anyway).
      ...DEFAULT_KEY_LIMITS,
      defaultSolveTokens: Math.min(DEFAULT_KEY_LIMITS.defaultSolveTokens, limits.tokensPerDay ?? Infinity),
      defaultSolveMoney: Math.min(DEFAULT_KEY_LIMITS.defaultSolveMoney, limits.moneyPerDay ?? Infinity),
      ...limits,
    },
  };
}
