/**
 * Runs `evaluateProblem` over a dataset, on worker threads when asked. Problems are handed out one at a
 * time (the slow ones do not hold up a whole chunk) and results are stored by problem index.
 */
import { Worker } from "node:worker_threads";
import type { World } from "../sim/world";
import { evaluateProblem, type EvalProblem, type ProblemResult, type SweepOptions } from "./sweep";

export interface PoolOptions {
  threads: number;
  onProblemDone?: (done: number, total: number) => void;
}

export async function runSweep(world: World, problems: EvalProblem[], options: SweepOptions, pool: PoolOptions): Promise<ProblemResult[]> {
  const results: ProblemResult[] = new Array(problems.length);
  let done = 0;
  const finished = (r: ProblemResult): void => {
    results[r.problem] = r;
    done += 1;
    pool.onProblemDone?.(done, problems.length);
  };
  if (pool.threads <= 1) {
    for (let i = 0; i < problems.length; i++) finished(await evaluateProblem(world, problems[i] as EvalProblem, i, options));
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
