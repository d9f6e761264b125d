/** The Hono environment every route and middleware shares: the Worker's bindings and what middleware sets. */
import type { Principal } from "./keyStore";

export type AppEnv = { Bindings: Env; Variables: { principal: Principal; requestId: string } };
