/** npm run providers:check: a configuration it cannot use exits 2 with one line naming the field and the allowed values. */
import { expect, it } from "vitest";
import { providersCheckCommand } from "../scripts/providers-check";
import { runCommand } from "./support/cli";

it("exits 2 on an unknown server, naming the field and the allowed values", async () => {
  const providers = JSON.stringify({
    generator: { kind: "openai-completions", server: "vlm", baseUrl: "http://127.0.0.1:9", model: "m", parameters: 1 },
    verifier: { kind: "sim", model: "sim-prm" },
  });
  const r = await runCommand(providersCheckCommand, ["--providers", providers]);
  expect(r.status).toBe(2);
  expect(r.stderr.trim()).toMatch(
    /^providers:check: PROVIDERS\.generator\.server: .*allowed: vllm, sglang, tgi, ollama, llamacpp, openai$/,
  );
});
