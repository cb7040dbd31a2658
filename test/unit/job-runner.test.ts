import { describe, expect, it } from "vitest";
import { startJobs } from "../../src/jobs/job-runner.js";
import { createLogger } from "../../src/logger.js";

const logger = createLogger("silent");

describe("job runner", () => {
  it("runs a job at once, again when woken, and stop() waits for the pass in flight", async () => {
    let runs = 0;
    let release: () => void = () => {};
    let finished = false;
    const runner = startJobs(
      [
        {
          name: "work",
          intervalMs: 60_000,
          async run() {
            runs += 1;
            if (runs === 2) {
              await new Promise<void>((resolve) => (release = resolve));
              finished = true;
            }
          },
        },
      ],
      logger,
    );
    await new Promise((r) => setTimeout(r, 20));
    expect(runs).toBe(1);
    runner.wake("work");
    await new Promise((r) => setTimeout(r, 20));
    expect(runs).toBe(2);
    const stopped = runner.stop();
    setTimeout(() => release(), 30);
    await stopped;
    expect(finished).toBe(true);
    expect(runs).toBe(2);
  });

  it("keeps running after a pass throws, and runs again at once when a pass says there is more", async () => {
    let runs = 0;
    const runner = startJobs(
      [
        {
          name: "flaky",
          intervalMs: 5,
          async run() {
            runs += 1;
            if (runs === 1) throw new Error("boom");
            return runs < 5;
          },
        },
      ],
      logger,
    );
    await new Promise((r) => setTimeout(r, 100));
    await runner.stop();
    expect(runs).toBeGreaterThanOrEqual(5);
  });

  it("sleeping between passes leaves no abort listener behind (a job every second ran for days)", async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on("warning", onWarning);
    let runs = 0;
    const runner = startJobs([{ name: "often", intervalMs: 1, run: async () => void (runs += 1) }], logger);
    await new Promise((r) => setTimeout(r, 150));
    await runner.stop();
    await new Promise((r) => setImmediate(r));
    process.off("warning", onWarning);
    expect(runs).toBeGreaterThan(20); // far more sleeps than the 10 listeners Node warns at
    expect(warnings).not.toContain("MaxListenersExceededWarning");
  });
});
