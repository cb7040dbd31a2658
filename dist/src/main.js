import { buildApp } from "./app.js";
import { startRuntime } from "./bootstrap.js";
import { loadConfig } from "./config.js";
import { createDemoOrgIfEmpty } from "./demo.js";
import { createSessionCodec } from "./http/session.js";
import { backgroundJobs } from "./jobs/index.js";
import { startJobs } from "./jobs/job-runner.js";
import { createLogger } from "./logger.js";
async function main() {
    const config = loadConfig();
    const logger = createLogger(config.logLevel);
    const runtime = await startRuntime(config, { migrate: true, logger });
    logger.info({ database: config.databaseUrl ? "postgresql" : `embedded (${config.dataDir})` }, "database ready");
    if (config.demo && !config.databaseUrl) {
        await createDemoOrgIfEmpty(runtime, logger, (text) => process.stdout.write(`${text}\n`));
    }
    const app = buildApp({
        ...runtime,
        logger,
        sessions: createSessionCodec(runtime.sessionKey),
        operatorToken: config.operatorToken,
    });
    const server = app.listen(config.port, config.host, () => {
        logger.info({ port: config.port, publicUrl: config.publicUrl }, "roster listening");
    });
    const jobs = startJobs(backgroundJobs(runtime, logger), logger);
    let stopping = false;
    const stop = (signal) => {
        if (stopping)
            return;
        stopping = true;
        logger.info({ signal }, "shutting down: finishing requests in flight");
        const force = setTimeout(() => {
            logger.warn("grace period over; closing remaining connections");
            server.closeAllConnections();
        }, config.shutdownGraceMs);
        force.unref();
        server.close(async () => {
            await jobs.stop();
            await runtime.db.destroy();
            logger.info("stopped");
            process.exit(0);
        });
        server.closeIdleConnections();
    };
    process.on("SIGTERM", () => stop("SIGTERM"));
    process.on("SIGINT", () => stop("SIGINT"));
}
main().catch((error) => {
    process.stderr.write(`roster failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
});
//# sourceMappingURL=main.js.map