// Runs background jobs (outbox delivery, seat holds, mapping syncs…) in this process on an interval.
// Every process runs every job: a job must be safe with many processes at once (it takes its rows with
// FOR UPDATE SKIP LOCKED, a lease, or an advisory lock) and must be resumable after a crash.
import type { Logger } from "../logger.js";

export interface Job {
  name: string;
  /** Pause between the end of one run and the start of the next. */
  intervalMs: number;
  /**
   * One pass. Returns true when it may have more work right away (the next pass then starts at once).
   * `signal` is aborted when the process stops: finish or give up the current item, then return.
   */
  run(signal: AbortSignal): Promise<boolean | void>;
}

export interface JobRunner {
  /** Starts the next pass of a job now instead of after its interval (e.g. right after a commit). */
  wake(name: string): void;
  /** Stops scheduling and waits for every pass in flight to end. */
  stop(): Promise<void>;
}

export function startJobs(jobs: Job[], logger: Logger): JobRunner {
  const controller = new AbortController();
  const loops = new Map<string, { wake: () => void; done: Promise<void> }>();

  for (const job of jobs) {
    let wakeUp: () => void = () => {};
    const sleep = (ms: number) =>
      new Promise<void>((resolve) => {
        // Each sleep removes its own abort listener when it ends: the signal lives as long as the process,
        // and a job that sleeps every second would otherwise pile up a listener per pass (a leak).
        const finish = () => {
          clearTimeout(timer);
          controller.signal.removeEventListener("abort", finish);
          resolve();
        };
        const timer = setTimeout(finish, ms);
        timer.unref();
        wakeUp = finish;
        controller.signal.addEventListener("abort", finish, { once: true });
      });
    const done = (async () => {
      while (!controller.signal.aborted) {
        let more = false;
        try {
          more = (await job.run(controller.signal)) === true;
        } catch (error) {
          logger.warn({ component: "jobs", job: job.name, err: error }, "background job failed; will retry");
        }
        if (!more && !controller.signal.aborted) await sleep(job.intervalMs);
      }
    })();
    loops.set(job.name, { wake: () => wakeUp(), done });
  }

  return {
    wake(name) {
      loops.get(name)?.wake();
    },
    async stop() {
      controller.abort();
      await Promise.all([...loops.values()].map((loop) => loop.done));
    },
  };
}
