// config -> database -> app -> listen; graceful shutdown on SIGTERM/SIGINT.
import type { Server } from "node:http";
import { buildApp } from "./app.js";
import { startRuntime } from "./bootstrap.js";
import { loadConfig } from "./config.js";
import { createDemoOrgIfEmpty } from "./demo.js";
import { createSessionCodec } from "./http/session.js";
import { backgroundJobs } from "./jobs/index.js";
import { startJobs } from "./jobs/job-runner.js";
import { createLogger } from "./logger.js";

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const runtime = await startRuntime(config, { migrate: true, logger });
  logger.info({ database: config.databaseUrl ? "postgresql" : `embedded (${config.dataDir})` }, "database ready");
  if (config.demo && !config.databaseUrl) {
    await createDemoOrgIfEmpty(runtime, logger, (text) => process.stdout.write(`${text}\n`));
  }
  // Services wake the mail job after a commit that queued mail; the runner starts after the app.
  let jobs: ReturnType<typeof startJobs> | null = null;
  const wakeJob = (name: string) => jobs?.wake(name);
  const app = buildApp({
    ...runtime,
    wakeJob,
    logger,
    sessions: createSessionCodec(runtime.sessionKey),
    operatorToken: config.operatorToken,
    authFailureLimit: config.authFailureLimit,
    trustProxy: config.trustProxy,
  });
  const server: Server = app.listen(config.port, config.host, () => {
    logger.info({ port: config.port, publicUrl: config.publicUrl }, "roster listening");
  });
  const mail = config.smtpUrl ? { smtpUrl: config.smtpUrl, from: config.mailFrom } : null;
  const runningJobs = startJobs(backgroundJobs({ ...runtime, wakeJob }, logger, { mail }), logger);
  jobs = runningJobs;

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down: finishing requests in flight");
    const force = setTimeout(() => {
      logger.warn("grace period over; closing remaining connections");
      server.closeAllConnections();
    }, config.shutdownGraceMs);
    force.unref();
    server.close(async () => {
      await runningJobs.stop();
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
