// config -> database -> app -> listen. With WORKERS=N (PostgreSQL only) a primary process runs the migrations
// and forks N server processes sharing the port (node:cluster). Stopping (DOMAIN §10): on SIGTERM/SIGINT stop
// accepting, finish every request in flight, answer with `Connection: close` so keep-alive clients go
// elsewhere, close idle connections, stop background jobs, close the database, exit. A request accepted
// before the signal is always answered (until SHUTDOWN_GRACE_MS, after which connections are cut).
import cluster, { type Worker } from "node:cluster";
import http, { type ServerResponse } from "node:http";
import net, { type Socket } from "node:net";
import { buildApp } from "./app.js";
import { startRuntime } from "./bootstrap.js";
import { type Config, loadConfig } from "./config.js";
import { createDemoOrgIfEmpty } from "./demo.js";
import { createSessionCodec } from "./http/session.js";
import { backgroundJobs } from "./jobs/index.js";
import { startJobs } from "./jobs/job-runner.js";
import { createLogger, type Logger } from "./logger.js";

/** On stop, a keep-alive connection idle this long is closed (shorter than Node's 5 s keep-alive timeout). */
const IDLE_CLOSE_MS = 1_000;

/** Binds the port or fails with a message naming it (a busy port must not leave a server that serves nothing). */
function listen(server: http.Server, config: Config): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) => {
      const where = `${config.host}:${config.port}`;
      if (error.code === "EADDRINUSE")
        reject(new Error(`port ${config.port} is already in use (${where}): stop what listens there or set PORT`));
      else if (error.code === "EACCES")
        reject(new Error(`no permission to listen on port ${config.port} (${where}): choose a port above 1023`));
      else reject(error);
    };
    server.once("error", failed);
    server.listen(config.port, config.host, () => {
      server.off("error", failed);
      resolve();
    });
  });
}

async function serve(config: Config, logger: Logger, options: { migrate: boolean }): Promise<void> {
  const runtime = await startRuntime(config, { migrate: options.migrate, logger });
  logger.info({ database: config.databaseUrl ? "postgresql" : `embedded (${config.dataDir})` }, "database ready");
  // Services wake the mail job after a commit that queued mail; the runner starts after listening.
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

  // Per connection: responses under way, and since when it has been idle (for closing idle keep-alive
  // connections on stop without racing a client that is about to reuse one).
  let stopping = false;
  const inFlight = new Set<ServerResponse>();
  const connections = new Map<Socket, { busy: number; idleSince: number }>();
  const server = http.createServer((req, res) => {
    if (stopping) res.setHeader("Connection", "close");
    inFlight.add(res);
    const connection = connections.get(req.socket);
    if (connection) connection.busy++;
    res.on("close", () => {
      inFlight.delete(res);
      if (connection) {
        connection.busy--;
        connection.idleSince = Date.now();
      }
    });
    app(req, res);
  });
  server.on("connection", (socket: Socket) => {
    connections.set(socket, { busy: 0, idleSince: Date.now() });
    socket.on("close", () => connections.delete(socket));
  });
  await listen(server, config);
  logger.info({ port: config.port, publicUrl: config.publicUrl }, "roster listening");
  if (config.demo && !config.databaseUrl) {
    await createDemoOrgIfEmpty(runtime, logger, (text) => process.stdout.write(`${text}\n`));
  }
  const mail = config.smtpUrl ? { smtpUrl: config.smtpUrl, from: config.mailFrom } : null;
  const runningJobs = startJobs(backgroundJobs({ ...runtime, wakeJob }, logger, { mail }), logger);
  jobs = runningJobs;
  if (cluster.isWorker) process.send?.({ type: "roster:listening" });

  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, inFlight: inFlight.size }, "shutting down: finishing requests in flight");
    // Responses not yet started tell their keep-alive clients to go elsewhere.
    for (const res of inFlight) if (!res.headersSent) res.setHeader("Connection", "close");
    const force = setTimeout(() => {
      logger.warn({ inFlight: inFlight.size }, "grace period over (SHUTDOWN_GRACE_MS); closing remaining connections");
      server.closeAllConnections();
    }, config.shutdownGraceMs);
    force.unref();
    // Stop accepting connections. (net's close, not http's: http's also drops idle keep-alive connections at
    // once, racing clients that are sending their next request on them right now.)
    const closed = new Promise<void>((resolve) => net.Server.prototype.close.call(server, () => resolve()));
    // A connection that carries a request from now on gets `Connection: close` and ends after the response;
    // one left idle for IDLE_CLOSE_MS is closed, as a keep-alive timeout would.
    const sweep = setInterval(() => {
      const now = Date.now();
      for (const [socket, c] of connections) if (c.busy === 0 && now - c.idleSince >= IDLE_CLOSE_MS) socket.destroy();
    }, 100);
    const jobsStopped = runningJobs.stop();
    await closed;
    clearTimeout(force);
    clearInterval(sweep);
    await jobsStopped;
    await runtime.db.destroy();
    logger.info("stopped");
    process.exit(0);
  };
  const onSignal = (signal: string) => {
    stop(signal).catch((error: unknown) => {
      logger.error({ err: error }, "shutdown failed");
      process.exit(1);
    });
  };
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  process.on("SIGINT", () => onSignal("SIGINT"));
}

/** The cluster primary: migrates once, forks the server processes, replaces one that dies, stops them all. */
async function primary(config: Config, logger: Logger): Promise<void> {
  if (!config.databaseUrl)
    throw new Error(
      `WORKERS=${config.workers} needs DATABASE_URL: the embedded database serves one process. ` +
        `Unset WORKERS (or set WORKERS=1), or use PostgreSQL.`,
    );
  const runtime = await startRuntime(config, { migrate: true, logger });
  await runtime.db.destroy();

  let stopping = false;
  let exitCode = 0;
  const listening = new Set<Worker>();
  const fork = () => {
    const worker = cluster.fork();
    worker.on("message", (message: { type?: string }) => {
      if (message?.type === "roster:listening") listening.add(worker);
    });
    return worker;
  };
  const stopAll = (signal: NodeJS.Signals) => {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal);
  };
  cluster.on("exit", (worker, code, signal) => {
    const started = listening.delete(worker);
    if (!stopping) {
      if (!started) {
        // It failed to start (busy port, bad configuration): the others would too; stop rather than loop.
        logger.error({ pid: worker.process.pid, code }, "a server process failed to start; stopping");
        exitCode = 1;
        stopAll("SIGTERM");
      } else {
        logger.error({ pid: worker.process.pid, code, signal }, "a server process died; starting another");
        fork();
      }
    }
    if (Object.keys(cluster.workers ?? {}).length === 0) {
      logger.info("all server processes stopped");
      process.exit(exitCode);
    }
  });
  for (let i = 0; i < config.workers; i++) fork();
  logger.info({ workers: config.workers, port: config.port }, "started server processes");
  process.on("SIGTERM", () => stopAll("SIGTERM"));
  process.on("SIGINT", () => stopAll("SIGTERM"));
}

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  if (config.workers > 1 && cluster.isPrimary) await primary(config, logger);
  else await serve(config, logger, { migrate: !cluster.isWorker });
}

main().catch((error) => {
  process.stderr.write(`roster failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
