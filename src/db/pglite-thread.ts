// The main thread's side of the embedded database: an object shaped like the PGlite instance knex-pglite
// expects (waitReady, query, close), whose statements run in src/db/pglite-worker.ts on a thread of their own,
// so the event loop keeps answering (/healthz, other requests) while PGlite works.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { deserializeError, type PgliteThreadReply, type PgliteThreadRequest } from "./pglite-protocol.js";

export interface PgliteThread {
  readonly waitReady: Promise<void>;
  readonly closed: boolean;
  query(sql: string, params?: unknown[], options?: { rowMode?: "array" | "object" }): Promise<unknown>;
  close(): Promise<void>;
}

type WithoutId<T> = T extends unknown ? Omit<T, "id"> : never;
type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };

/** Under tsx and vitest this module is .ts and so are its neighbours; compiled, all are .js. */
function sibling(name: string): URL {
  const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
  return new URL(`./${name}${ext}`, import.meta.url);
}

/**
 * Creating a database (initdb) takes PGlite a few hundred MB of WASM memory that it never gives back, and a
 * finished thread's memory is not reliably returned either: a new data directory is created by a short-lived
 * process (pglite-initdb.ts), and the database is then served by a lean thread.
 */
async function initialise(dataDir: string): Promise<void> {
  if (existsSync(path.join(dataDir, "PG_VERSION"))) return;
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(sibling("pglite-initdb")), dataDir], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`creating the embedded database in ${dataDir} failed: ${stderr}`)),
    );
  });
}

export function startPgliteThread(dataDir: string): PgliteThread {
  let inner: PgliteThread | null = null;
  let closed = false;
  const waitReady = initialise(dataDir).then(() => {
    inner = connect(dataDir);
    return inner.waitReady;
  });
  waitReady.catch(() => {});
  return {
    waitReady,
    get closed() {
      return closed;
    },
    async query(sql, params, options) {
      await waitReady;
      return inner!.query(sql, params, options);
    },
    async close() {
      closed = true;
      await waitReady.catch(() => {});
      await inner?.close();
    },
  };
}

function startWorker(dataDir: string): Worker {
  const url = sibling("pglite-worker");
  if (!url.pathname.endsWith(".ts")) return new Worker(url, { workerData: { dataDir } });
  // Under tsx (npm run dev) a worker thread does not inherit tsx's loader for a .ts entry: load it through
  // tsx's API instead.
  const api = import.meta.resolve("tsx/esm/api");
  const href = JSON.stringify(url.href);
  return new Worker(`import(${JSON.stringify(api)}).then(({ tsImport }) => tsImport(${href}, ${href}))`, {
    eval: true,
    workerData: { dataDir },
  });
}

function connect(dataDir: string): PgliteThread {
  const worker = startWorker(dataDir);
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let closed = false;
  let failure: Error | null = null;

  const failAll = (error: Error) => {
    failure = error;
    for (const p of pending.values()) p.reject(error);
    pending.clear();
  };

  let markReady: () => void = () => {};
  let markFailed: (error: Error) => void = () => {};
  const waitReady = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    markFailed = reject;
  });
  // Avoid an unhandled rejection when nobody awaits readiness before the failure.
  waitReady.catch(() => {});

  worker.on("message", (message: PgliteThreadReply) => {
    if (message.type === "ready") return markReady();
    if (message.type === "failed") {
      const error = deserializeError(message.error);
      markFailed(error);
      return failAll(error);
    }
    const p = pending.get(message.id);
    if (!p) return;
    pending.delete(message.id);
    if (message.type === "result") p.resolve(message.result);
    else p.reject(deserializeError(message.error));
  });
  worker.on("error", (error) => {
    markFailed(error);
    failAll(error);
  });
  worker.on("exit", (code) => {
    const error = new Error(`the embedded database's thread exited (code ${code})`);
    markFailed(error);
    failAll(error);
  });

  const send = (request: WithoutId<PgliteThreadRequest>): Promise<unknown> => {
    if (failure) return Promise.reject(failure);
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      worker.postMessage({ ...request, id } as PgliteThreadRequest);
    });
  };

  return {
    waitReady,
    get closed() {
      return closed;
    },
    query(sql, params = [], options = {}) {
      return send({ type: "query", sql, params, ...(options.rowMode ? { rowMode: options.rowMode } : {}) });
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await send({ type: "close" });
      } finally {
        await worker.terminate();
      }
    },
  };
}
