/**
 * npm run providers:check -- --providers JSON   (or PROVIDERS in the environment)
 *
 * Sends one tiny request per configured provider through its adapter and reports what it found against what
 * the configuration claims: choices returned for `n`, usage present or not, step scores of the right shape.
 * Exit 0: every provider answered as configured; 1: a provider did not (the line says what to set); 2: the
 * configuration itself is refused (unknown kind or server, naming the field and the allowed values).
 */
import { PROVIDER_KINDS, wire, parseProvidersConfig } from "../src/wiring/providers";
import { command, InputError, runMain } from "./cli";

const PROBE = "Start with 2. Add 3. What is the final number?";

export const providersCheckCommand = command({
  name: "providers:check",
  summary:
    "Sends one tiny request per configured provider and reports what it found against what the configuration claims. Exit 1: a provider did not answer as configured; 2: the configuration is refused.",
  options: { providers: { type: "string", arg: "JSON", help: "the PROVIDERS value (default: $PROVIDERS)" } },
  run: (values) => check(values.providers ?? process.env.PROVIDERS),
});

async function check(raw: string | undefined): Promise<number> {
  if (!raw) throw new InputError("--providers JSON (or PROVIDERS) is required");
  const parsed = parseProvidersConfig(raw);
  if (!parsed.ok) throw new InputError(parsed.error);
  const wired = wire(raw, process.env as Record<string, unknown>);
  if (!wired.ok) throw new InputError(wired.error);
  if (parsed.config === "sim") {
    process.stdout.write(
      `PROVIDERS is "sim": the simulated world in process (kinds: ${PROVIDER_KINDS.map((k) => k.kind).join(", ")})\n`,
    );
    return 0;
  }
  let failed = false;
  const { providers } = wired.wired;
  for (const role of ["generator", "reviser", "large"] as const) {
    const config = parsed.config[role];
    if (!config) continue;
    try {
      const [out] = await providers.generate(role, [
        { role, question: PROBE, prefix: [], n: 2, temperature: 1, oneStep: true, maxTokens: 16, seed: 1 },
      ]);
      const usage = out!.estimated ? "no usage reported (charged at the worst case)" : "usage reported";
      process.stdout.write(
        `ok   ${role} (${config.kind}${config.server ? ` on ${config.server}` : ""}): 2 samples, ${usage}\n`,
      );
    } catch (err) {
      failed = true;
      process.stdout.write(`FAIL ${role}: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  }
  try {
    const [out] = await providers.score([{ question: PROBE, steps: ["Start with 2.", "Add 3: 5. \\boxed{5}"] }]);
    process.stdout.write(
      `ok   verifier (${parsed.config.verifier.kind}): 2 step scores ${JSON.stringify(out!.scores)}\n`,
    );
  } catch (err) {
    failed = true;
    process.stdout.write(`FAIL verifier: ${err instanceof Error ? err.message : String(err)}\n`);
  }
  return failed ? 1 : 0;
}

runMain(import.meta.url, providersCheckCommand);
