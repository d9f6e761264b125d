/**
 * A command of scripts/ run in this process, as a user runs it but without a subprocess (a tsx start-up costs
 * about a second a run): its stdout and stderr captured, its exit code from main(argv).
 */
import type { Command } from "../../scripts/cli";

export interface CliRun {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs are serialised: the capture replaces the process's own stdout and stderr writers while one runs. */
let queue: Promise<unknown> = Promise.resolve();

export function runCommand(cmd: Command, argv: readonly string[], env: Record<string, string> = {}): Promise<CliRun> {
  const run = queue.then(async () => {
    const out: string[] = [];
    const err: string[] = [];
    const { write: stdoutWrite } = process.stdout;
    const { write: stderrWrite } = process.stderr;
    const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    const capture =
      (into: string[]) =>
      (chunk: string | Uint8Array): boolean => {
        into.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
        return true;
      };
    process.stdout.write = capture(out) as typeof process.stdout.write;
    process.stderr.write = capture(err) as typeof process.stderr.write;
    Object.assign(process.env, env);
    try {
      const status = await cmd.main(argv);
      return { status, stdout: out.join(""), stderr: err.join("") };
    } finally {
      process.stdout.write = stdoutWrite;
      process.stderr.write = stderrWrite;
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
  queue = run.catch(() => undefined);
  return run;
}
