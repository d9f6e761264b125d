import type { D1Migration } from "cloudflare:test";
import type { SolveEnv } from "../../src/durable/SolveSession";

declare global {
  namespace Cloudflare {
    interface Env extends SolveEnv {
      TEST_MIGRATIONS: D1Migration[];
    }
  }
}
