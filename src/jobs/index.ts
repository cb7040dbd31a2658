// The background jobs every server process runs. Each is safe to run in many processes at once.
import type { Logger } from "../logger.js";
import type { ServiceDeps } from "../services/context.js";
import { releaseExpiredHolds } from "../services/seat-holds-service.js";
import type { Job } from "./job-runner.js";

export function backgroundJobs(deps: ServiceDeps, _logger: Logger): Job[] {
  return [
    // Holds last minutes; checking every 15 s keeps a seat from sitting idle long after its hold ends.
    { name: "seat-holds", intervalMs: 15_000, run: async () => (await releaseExpiredHolds(deps)).more },
  ];
}
