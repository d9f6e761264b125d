/** A key's KeyQuota object. */
export function keyQuota(env: Env, keyId: string) {
  return env.KEY_QUOTA.get(env.KEY_QUOTA.idFromName(keyId));
}
