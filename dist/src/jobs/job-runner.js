export function startJobs(jobs, logger) {
    const controller = new AbortController();
    const loops = new Map();
    for (const job of jobs) {
        let wakeUp = () => { };
        const sleep = (ms) => new Promise((resolve) => {
            const timer = setTimeout(resolve, ms);
            timer.unref();
            wakeUp = () => {
                clearTimeout(timer);
                resolve();
            };
            controller.signal.addEventListener("abort", wakeUp, { once: true });
        });
        const done = (async () => {
            while (!controller.signal.aborted) {
                let more = false;
                try {
                    more = (await job.run(controller.signal)) === true;
                }
                catch (error) {
                    logger.warn({ component: "jobs", job: job.name, err: error }, "background job failed; will retry");
                }
                if (!more && !controller.signal.aborted)
                    await sleep(job.intervalMs);
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
//# sourceMappingURL=job-runner.js.map