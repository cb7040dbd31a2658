// The background jobs every server process runs. Each is safe to run in many processes at once.
import type { Logger } from "../logger.js";
import type { ServiceDeps } from "../services/context.js";
import { runNextJob } from "../services/jobs-service.js";
import { releaseExpiredHolds } from "../services/seat-holds-service.js";
import type { Job } from "./job-runner.js";

export function backgroundJobs(deps: ServiceDeps, _logger: Logger): Job[] {
  return [
    // Mapping changes and syncs (issue 11): queued ones, and those whose process died (lease ran out).
    { name: "admin-jobs", intervalMs: 1_000, run: async (signal) => runNextJob(deps, { signal }) },
    // Holds last minutes; checking every 15 s keeps a seat from sitting idle long after its hold ends.
    { name: "seat-holds", intervalMs: 15_000, run: async () => (await releaseExpiredHolds(deps)).more },
  ];
}
