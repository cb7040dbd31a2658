// `node pglite-initdb.js DATA_DIR`: creates a new embedded database and exits. Run as a process of its own by
// pglite-thread.ts: initdb grows PGlite's WASM memory by a few hundred MB, which only an exiting process
// reliably gives back to the operating system.
import { PGlite } from "@electric-sql/pglite";
import { pgliteStartParams } from "./pglite-protocol.js";

const dataDir = process.argv[2];
if (!dataDir) throw new Error("usage: pglite-initdb DATA_DIR");
const db = new PGlite(dataDir, { startParams: pgliteStartParams() });
await db.waitReady;
await db.close();
