import { defineConfig } from "vitest/config";

// Sandboxes and test suites are real processes: long timeouts, few workers (CI has 2 cores).
export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: "forks",
    maxWorkers: 2,
    reporters: ["default", "./test/support/summary-reporter.ts"],
    // Fails the run when a sandbox launcher it started is left behind.
    globalSetup: ["./test/support/leftover-launchers.ts"],
  },
});
