/** Worker thread for `runSweep`: evaluates the problem indices it is sent, one message each. */
import { parentPort, workerData } from "node:worker_threads";
import type { World } from "../sim/world";
import { evaluateProblem, type EvalProblem, type SweepOptions } from "./sweep";

const { world, problems, options } = workerData as { world: World; problems: EvalProblem[]; options: SweepOptions };

parentPort?.on("message", (index: number) => {
  evaluateProblem(world, problems[index] as EvalProblem, index, options).then(
    (result) => parentPort?.postMessage({ result }),
    (err: unknown) =>
      parentPort?.postMessage({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  );
});
