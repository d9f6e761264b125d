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
      ...DEFAULT_KEY_LIMITS,
      ...limits,
    },
  };
}
