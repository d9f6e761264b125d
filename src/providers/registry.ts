/**
 * The provider registry's contract. A provider kind is one module exporting a `ProviderKind`: its zod config
 * schema (with a `kind` literal) and factories for the adapters it can be (generator, verifier). The service's
 * list of kinds is assembled once (`src/wiring/providers.ts`); the PROVIDERS schema, the refusal of unknown
 * kinds and servers, and adapter construction are all derived from that list. Adding a kind is one file here
 * plus one line in that list.
 */
import { z } from "zod";
import type { AdapterContext, GeneratorAdapter, VerifierAdapter } from "./shared";

export type ProviderRole = "generator" | "verifier" | "reviser" | "large";

export interface ProviderKind<S extends z.ZodObject = z.ZodObject> {
  kind: string;
  /** A zod object with `kind: z.literal(<kind>)`; its other fields are the kind's configuration. */
  schema: S;
  generator?(name: string, config: z.output<S>, context: AdapterContext): GeneratorAdapter;
  verifier?(name: string, config: z.output<S>, context: AdapterContext): VerifierAdapter;
  /** Why this configuration cannot work in this role (refused at startup, naming the field), if it cannot. */
  refuse?(config: z.output<S>, role: ProviderRole): string | undefined;
}

/** Type-check a kind against its own schema, then erase the schema type so kinds can share one list. */
export function defineKind<S extends z.ZodObject>(kind: ProviderKind<S>): ProviderKind {
  return kind as unknown as ProviderKind;
}

export interface ProvidersConfig {
  generator: ProviderConfig;
  verifier: ProviderConfig;
  reviser?: ProviderConfig;
  large?: ProviderConfig;
}

/** A parsed provider configuration: its kind's schema output. */
export type ProviderConfig = { kind: string } & Record<string, unknown>;

const ROLES: readonly ProviderRole[] = ["generator", "verifier", "reviser", "large"];

/** The discriminated union of the kinds' schemas (for docs and tools; parsing goes through `parseProviders`). */
export function providerConfigSchema(kinds: readonly ProviderKind[]) {
  return z.discriminatedUnion("kind", kinds.map((k) => k.schema) as unknown as [z.ZodObject, ...z.ZodObject[]]);
}

function fieldError(path: (string | number | symbol)[], message: string): { ok: false; error: string } {
  return { ok: false, error: `PROVIDERS.${path.map(String).join(".")}: ${message}` };
}

/**
 * Parse a PROVIDERS object against the registered kinds. Errors name the field and, for an unknown kind or
 * server, the allowed values.
 */
export function parseProviders(
  kinds: readonly ProviderKind[],
  data: unknown,
): { ok: true; config: ProvidersConfig } | { ok: false; error: string } {
  if (!data || typeof data !== "object" || Array.isArray(data))
    return fieldError(["(root)"], 'expected "sim" or an object with generator and verifier');
  const obj = data as Record<string, unknown>;
  const extra = Object.keys(obj).filter((k) => !(ROLES as readonly string[]).includes(k));
  if (extra.length > 0) return fieldError([extra[0]!], `unknown role; allowed: ${ROLES.join(", ")}`);
  const out: Partial<ProvidersConfig> = {};
  for (const role of ROLES) {
    const raw = obj[role];
    if (raw === undefined) {
      if (role === "generator" || role === "verifier") return fieldError([role], "required");
      continue;
    }
    if (!raw || typeof raw !== "object" || Array.isArray(raw)) return fieldError([role], "expected an object");
    const kindName = (raw as { kind?: unknown }).kind;
    const kind = kinds.find((k) => k.kind === kindName);
    if (!kind)
      return fieldError(
        [role, "kind"],
        `unknown kind ${JSON.stringify(kindName)}; allowed: ${kinds.map((k) => k.kind).join(", ")}`,
      );
    const parsed = kind.schema.strict().safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const allowed =
        issue.code === "invalid_value" ? `; allowed: ${issue.values.map((v) => String(v)).join(", ")}` : "";
      const keys = issue.code === "unrecognized_keys" ? `: ${issue.keys.join(", ")}` : "";
      return fieldError([role, ...issue.path], `${issue.message}${keys}${allowed}`);
    }
    const config = parsed.data as ProviderConfig;
    const wants = role === "verifier" ? kind.verifier : kind.generator;
    if (!wants) return fieldError([role, "kind"], `a ${kind.kind} provider cannot be the ${role}`);
    const refused = kind.refuse?.(config, role);
    if (refused) return fieldError([role], refused);
    out[role] = config;
  }
  return { ok: true, config: out as ProvidersConfig };
}

export function kindOf(kinds: readonly ProviderKind[], config: ProviderConfig): ProviderKind {
  const kind = kinds.find((k) => k.kind === config.kind);
  if (!kind) throw new Error(`unknown provider kind "${config.kind}"`);
  return kind;
}
