/**
 * Runs `evaluateProblem` over a dataset, on worker threads when asked. Problems are handed out one at a
 * time (the slow ones do not hold up a whole chunk) and results are stored by problem index.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { gunzipSync, gzipSync } from "node:zlib";
import type { World } from "../sim/world";
import { evaluateProblem, type EvalProblem, type ProblemResult, type SweepOptions } from "./sweep";

export interface PoolOptions {
  threads: number;
  onProblemDone?: (done: number, total: number) => void;
  /**
   * A directory of finished sweeps. A sweep's results depend only on the world, the problems and the
   * options, so one keyed by all three is read back instead of run again (verify-world and calibrate
   * sweep the same seeds).
   */
  cacheDir?: string;
}

/** Bump when the sweep's code changes what it records, so old cached sweeps are not read back. */
const CACHE_VERSION = 3;

function cacheFile(dir: string, world: World, problems: EvalProblem[], options: SweepOptions): string {
  const key = createHash("sha256")
    .update(JSON.stringify({ v: CACHE_VERSION, world, problems, options }))
    .digest("hex")
    .slice(0, 32);
  return join(dir, `sweep-${key}.json.gz`);
}

export async function runSweep(
  world: World,
  problems: EvalProblem[],
  options: SweepOptions,
  pool: PoolOptions,
): Promise<ProblemResult[]> {
  if (!pool.cacheDir) return sweepUncached(world, problems, options, pool);
  const file = cacheFile(pool.cacheDir, world, problems, options);
  if (existsSync(file)) {
    const results = JSON.parse(gunzipSync(readFileSync(file)).toString("utf8")) as ProblemResult[];
    pool.onProblemDone?.(problems.length, problems.length);
    return results;
  }
  const results = await sweepUncached(world, problems, options, pool);
  mkdirSync(pool.cacheDir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, gzipSync(JSON.stringify(results)));
  renameSync(tmp, file);
  return results;
}

async function sweepUncached(
  world: World,
  problems: EvalProblem[],
  options: SweepOptions,
  pool: PoolOptions,
): Promise<ProblemResult[]> {
  const results: ProblemResult[] = new Array(problems.length);
  let done = 0;
  const finished = (r: ProblemResult): void => {
    results[r.problem] = r;
    done += 1;
    pool.onProblemDone?.(done, problems.length);
  };
  if (pool.threads <= 1) {
    for (let i = 0; i < problems.length; i++)
      finished(await evaluateProblem(world, problems[i] as EvalProblem, i, options));
    return results;
  }
  let next = 0;
  const started: Worker[] = [];
  const workers = Array.from({ length: Math.min(pool.threads, problems.length) }, () => {
    return new Promise<void>((resolve, reject) => {
      const worker = new Worker(new URL("./sweepWorker.ts", import.meta.url), {
        execArgv: ["--import", "tsx"],
        workerData: { world, problems, options },
      });
      started.push(worker);
      let retired = false;
      const feed = (): void => {
        if (next < problems.length) worker.postMessage(next++);
        else {
          retired = true;
          void worker.terminate().then(() => resolve());
        }
      };
      worker.on("message", (msg: { result?: ProblemResult; error?: string }) => {
        if (msg.error) {
          reject(new Error(msg.error));
          void worker.terminate();
          return;
        }
        if (msg.result) finished(msg.result);
        feed();
      });
      worker.on("error", reject);
      // A worker that dies without an error event would otherwise leave the sweep waiting forever.
      worker.on("exit", (code) => {
        if (!retired) reject(new Error(`an evaluation worker exited early (code ${code})`));
      });
      worker.once("online", feed);
    });
  });
  try {
    await Promise.all(workers);
  } catch (err) {
    // One failure ends the sweep: stop the other workers instead of letting them run it to the end.
    await Promise.all(started.map((w) => w.terminate()));
    throw err;
  }
  return results;
}
