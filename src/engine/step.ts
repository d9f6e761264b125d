/**
 * The old name of executeStep.ts, kept only for src/providers and src/sim, which another branch (issue 17) is
 * rewriting: once it is merged, point their imports at executeStep.ts and delete this file
 * (test/layers.test.ts `OLD_NAMES` lists who may still import it).
 */
export type { ProviderSet } from "./executeStep";
