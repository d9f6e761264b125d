import type { D1Migration } from "cloudflare:test";

declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[];
      ADMIN_SECRET: string;
      /** Requests the security fuzz sends (test/security/fuzz.test.ts). */
      FUZZ_REQUESTS?: string;
    }
  }
}
