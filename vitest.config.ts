import { defineConfig } from "vitest/config";
import { workersProjects } from "./vitest.workers.config";

export default defineConfig(async () => ({
  test: {
    // Four test files at a time on two cores: workerd suites spend much of their time waiting (alarms, streams,
    // timers), so two more workers than cores halve the suite's wall time. The HTTP project, which shares one
    // simulated server, runs its files one after another.
    maxWorkers: 4,
    projects: [
      {
        test: {
          name: "node",
          include: ["test/**/*.test.ts"],
          exclude: ["test/workers/**", "test/workers-http/**", "test/security/**", "**/node_modules/**"],
          testTimeout: 60_000,
          // The node suites share no global state (no module mocks or stubbed globals; the CLI runner restores
          // stdout/stderr and env after each run), so one worker runs many files: a fresh worker per file cost
          // about a second of start-up each.
          isolate: false,
        },
      },
      ...(await workersProjects()),
    ],
  },
}));
