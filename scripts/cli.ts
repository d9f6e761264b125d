/**
 * The one command-line layer every script in scripts/ runs on: option parsing (node:util parseArgs, strict),
 * `--help`, and errors and exit codes. A command is `command({...})`; its `main(argv)` resolves to the exit
 * code (so tests call it in process), and `runMain` runs it when the file is the one node was started with.
 *
 * Exit codes: 0 done; 1 the run failed (a check did not hold, a service stopped answering, a crash: one line or
 * a stack); 2 bad input (one line naming the problem, nothing done). Shared options and their parsers are
 * here too, so a flag means the same thing, with the same message, in every command.
 */
import { availableParallelism } from "node:os";
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { configsAt, parseStrategies, type StrategyEntry } from "../src/eval/grid";
import { InputError, intArg, seedsArg } from "../src/eval/io";
import { EVAL_DEFAULTS } from "../src/eval/run";

export { InputError, intArg, seedsArg };

/** The run failed for a reason that is not bad input: reported as one line and exit code 1. */
export class RunFailure extends Error {}

export interface Option {
  type: "string" | "boolean";
  /** What the value is, for the help text ("FILE", "N", "LIST"). */
  arg?: string;
  help: string;
  multiple?: boolean;
}
export type Options = Record<string, Option>;

type Value<T extends Option> = T["type"] extends "boolean" ? boolean : T["multiple"] extends true ? string[] : string;
export type Values<O extends Options> = { [K in keyof O]?: Value<O[K]> };

export interface CommandSpec<O extends Options> {
  /** The npm script ("eval", "measure:caps"); error lines start with it. */
  name: string;
  /** Synopsis lines after `npm run NAME --` (default `[options]`). */
  usage?: readonly string[];
  /** What the command does, a few lines. */
  summary: string;
  options: O;
  /** Words that are not options (subcommands, ids); refused when absent. */
  positionals?: boolean;
  run(args: Values<O>, positionals: string[]): Promise<number | void> | number | void;
}

export interface Command {
  name: string;
  /** Run with these arguments (without node and the script); resolves to the exit code. Never exits. */
  main(argv: readonly string[]): Promise<number>;
  help(): string;
}

export function command<const O extends Options>(spec: CommandSpec<O>): Command {
  const help = (): string => {
    const flags = Object.entries(spec.options).map(([k, o]) => [`--${k}${o.arg ? ` ${o.arg}` : ""}`, o.help]);
    const width = Math.max(...flags.map(([f]) => f!.length), 6) + 2;
    return [
      ...(spec.usage ?? ["[options]"]).map((u, i) => `${i === 0 ? "usage:" : "      "} npm run ${spec.name} -- ${u}`),
      "",
      spec.summary.trim(),
      "",
      "options:",
      ...[...flags, ["--help", "this text"]].map(([f, h]) => `  ${f!.padEnd(width)}${h}`),
      "",
    ].join("\n");
  };
  const main = async (argv: readonly string[]): Promise<number> => {
    if (argv.includes("--help") || argv.includes("-h")) {
      process.stdout.write(help());
      return 0;
    }
    try {
      let parsed;
      try {
        parsed = parseArgs({
          args: [...argv],
          options: Object.fromEntries(
            Object.entries(spec.options).map(([k, o]) => [
              k,
              { type: o.type, ...(o.multiple ? { multiple: true } : {}) },
            ]),
          ),
          strict: true,
          allowPositionals: spec.positionals ?? false,
        });
      } catch (err) {
        // node's message may run over lines (a value starting with "-" is ambiguous: it says how to give it).
        throw new InputError(`${(err as Error).message.replace(/\s*\n\s*/g, " ")} (see --help)`);
      }
      const code = await spec.run(parsed.values as Values<O>, parsed.positionals);
      return code ?? 0;
    } catch (err) {
      if (err instanceof InputError || err instanceof RunFailure) {
        process.stderr.write(`${spec.name}: ${err.message}\n`);
        return err instanceof InputError ? 2 : 1;
      }
      process.stderr.write(`${spec.name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      return 1;
    }
  };
  return { name: spec.name, main, help };
}

/**
 * Run `cmd` when `moduleUrl` is the file node was started with (importing the module, as tests do, runs
 * nothing). `keepAlive`: a server, which keeps running after main resolves 0; anything else exits with its code
 * at once (lingering sockets and timers of a finished run do not hold the process).
 */
export function runMain(moduleUrl: string, cmd: Command, opts: { keepAlive?: boolean } = {}): void {
  const entry = process.argv[1];
  if (!entry || realpathSync(entry) !== realpathSync(fileURLToPath(moduleUrl))) return;
  void cmd.main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
    if (code !== 0 || !opts.keepAlive) process.exit(code);
  });
}

// Options several commands share: declared once, so the flag reads the same everywhere.
export const OPTIONS = {
  world: { type: "string", arg: "FILE", help: "the simulated world (default worlds/default.json)" },
  seed: { type: "string", arg: "N", help: "the seed of the generated problems and samples" },
  seeds: { type: "string", arg: "LIST", help: "seeds, comma-separated (each a fresh draw of problems and samples)" },
  problems: { type: "string", arg: "N", help: "problems per seed" },
  "oracle-samples": { type: "string", arg: "N", help: "samples per problem that estimate its difficulty" },
  strategies: { type: "string", arg: "LIST", help: "strategies, comma-separated (see src/eval/grid.ts)" },
  budgets: { type: "string", arg: "LIST", help: "budgets in generations, comma-separated" },
  threads: { type: "string", arg: "N", help: "worker threads (default: cores, at most 8)" },
  cache: { type: "string", arg: "DIR", help: "keep sweeps here and read them back on a rerun" },
  resamples: { type: "string", arg: "N", help: "bootstrap resamples of the intervals" },
  out: { type: "string", arg: "PATH", help: "where the results are written" },
  report: { type: "string", arg: "FILE", help: "where the markdown report is written" },
  service: { type: "string", arg: "URL", help: "a running service (npm run dev)" },
  key: { type: "string", arg: "KEY", help: "its API key (default: TTC_KEY from the environment)" },
  concurrency: { type: "string", arg: "N", help: "requests in flight at once" },
} as const satisfies Options;

/** Some of the shared options, by name. */
export function pick<const K extends keyof typeof OPTIONS>(...names: K[]): Pick<typeof OPTIONS, K> {
  return Object.fromEntries(names.map((n) => [n, OPTIONS[n]])) as Pick<typeof OPTIONS, K>;
}

/** --threads: a count of at least 1; by default the machine's cores, at most 8. */
export function threadsArg(value: string | undefined): number {
  return intArg("threads", value, Math.max(1, Math.min(availableParallelism(), 8)), 1);
}

/** --seed N or --seeds LIST (not both): the seeds of a run. */
export function seedOrSeeds(args: { seed?: string; seeds?: string }, fallback: readonly number[]): number[] {
  if (args.seed !== undefined && args.seeds !== undefined) throw new InputError("--seed and --seeds: give one of them");
  if (args.seeds !== undefined) return seedsArg("--seeds", args.seeds);
  return args.seed !== undefined ? [intArg("seed", args.seed, 0, 0)] : [...fallback];
}

/** --budgets: distinct budgets in generations from 1 to 4096, ascending; the defaults when absent. */
export function budgetsArg(value: string | undefined, fallback: readonly number[] = EVAL_DEFAULTS.budgets): number[] {
  if (value === undefined) return [...fallback];
  const out: number[] = [];
  for (const part of value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    if (!/^\d+$/.test(part) || Number(part) < 1)
      throw new InputError(`--budgets: "${part}" is not a budget (an integer >= 1 generation)`);
    if (Number(part) > 4096) throw new InputError(`--budgets: ${part} is above the largest supported budget (4096)`);
    out.push(Number(part));
  }
  if (out.length === 0) throw new InputError("--budgets: no budgets given");
  return [...new Set(out)].sort((a, b) => a - b);
}

/** A strategy list option (`--strategies`, `--extra-strategies`), its parse error named after the flag. */
export function strategiesArg(flag: string, value: string): StrategyEntry[] {
  try {
    return parseStrategies(value);
  } catch (err) {
    throw new InputError(`${flag}: ${(err as Error).message}`);
  }
}

/** Refuse impossible strategy/budget combinations before any work starts. */
export function checkGrid(strategies: readonly StrategyEntry[], budgets: readonly number[]): void {
  for (const entry of strategies)
    for (const budget of budgets) {
      const grid = configsAt(entry, budget);
      if (!grid.ok) throw new InputError(`--strategies/--budgets: ${grid.error}`);
    }
}

/** --strategies and --budgets of a sweep, checked together: every strategy must be possible at every budget. */
export function gridArgs(
  args: { strategies?: string; budgets?: string },
  defaultStrategies: string,
): { strategies: StrategyEntry[]; budgets: number[] } {
  const budgets = budgetsArg(args.budgets);
  const strategies = strategiesArg("--strategies", args.strategies ?? defaultStrategies);
  checkGrid(strategies, budgets);
  return { strategies, budgets };
}
