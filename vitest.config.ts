import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "node",
          include: ["test/**/*.test.ts"],
          exclude: ["test/workers/**", "**/node_modules/**"],
          testTimeout: 60_000,
        },
      },
      "./vitest.workers.config.ts",
    ],
  },
});
