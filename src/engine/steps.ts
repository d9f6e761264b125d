/**
 * The old name of solutionSteps.ts, kept only for src/sim, which another branch (issue 17) is rewriting: once
 * it is merged, point its import at solutionSteps.ts and delete this file (test/layers.test.ts `OLD_NAMES`
 * lists who may still import it).
 */
export { joinSteps, splitSteps, STEP_SEPARATOR } from "./solutionSteps";
