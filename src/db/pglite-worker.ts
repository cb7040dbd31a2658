// The embedded database's own thread: PGlite (PostgreSQL compiled to WASM) runs each statement synchronously,
// so on the main thread a long statement or a Bulk of 300 operations would stall every other request,
// /healthz included. Here it blocks only this thread; the main thread talks to it by messages
// (src/db/pglite-thread.ts), one statement at a time, as knex-pglite's single connection would.
import { parentPort, workerData } from "node:worker_threads";
import { PGlite } from "@electric-sql/pglite";
import {
  pgliteStartParams,
  type PgliteThreadRequest,
  type PgliteThreadReply,
  serializeError,
} from "./pglite-protocol.js";

const { dataDir } = workerData as { dataDir: string };
const port = parentPort;
if (!port) throw new Error("pglite-worker must run in a worker thread");

const db = new PGlite(dataDir, { startParams: pgliteStartParams() });
const reply = (message: PgliteThreadReply) => port.postMessage(message);

db.waitReady.then(
  () => reply({ type: "ready" }),
  (error: unknown) => reply({ type: "failed", error: serializeError(error) }),
);

// Statements arrive in order and PGlite runs one at a time; keep the order explicit.
let queue: Promise<unknown> = Promise.resolve();
port.on("message", (request: PgliteThreadRequest) => {
  queue = queue.then(async () => {
    if (request.type === "close") {
      try {
        if (!db.closed) await db.close();
        reply({ type: "result", id: request.id, result: null });
      } catch (error) {
        reply({ type: "error", id: request.id, error: serializeError(error) });
      }
      port.close();
      return;
    }
    try {
      const result = await db.query(request.sql, request.params, request.rowMode ? { rowMode: request.rowMode } : {});
      reply({ type: "result", id: request.id, result });
    } catch (error) {
      reply({ type: "error", id: request.id, error: serializeError(error) });
    }
  });
});
