// The background jobs every server process runs. Each is safe to run in many processes at once.
import type { Logger } from "../logger.js";
import type { ServiceDeps } from "../services/context.js";
import type { Job } from "./job-runner.js";

export function backgroundJobs(_deps: ServiceDeps, _logger: Logger): Job[] {
  return [];
}
