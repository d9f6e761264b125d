import { defineConfig } from "vitest/config";
import { workersProjects } from "./vitest.workers.config";

export default defineConfig(async () => ({
  test: {
    projects: [
      {
        test: {
          name: "node",
          include: ["test/**/*.test.ts"],
          exclude: ["test/workers/**", "test/workers-http/**", "test/security/**", "**/node_modules/**"],
          testTimeout: 60_000,
        },
      },
      ...(await workersProjects()),
    ],
  },
}));
