// Browser tests: playwright-core driving the system's Chromium against a live Roster. Not part of `npm test`;
// run with `npm run test:browser` (.ci/run does, after installing chromium when it is missing).
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/browser/**/*.test.ts"],
    pool: "forks",
    testTimeout: 120_000,
    hookTimeout: 120_000,
    maxWorkers: 1,
  },
});
