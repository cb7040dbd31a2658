// knex over PostgreSQL: a server when DATABASE_URL is set, else embedded PGlite (real PostgreSQL compiled to
// WASM) in the data directory, so one set of migrations and queries serves both.
import { mkdirSync } from "node:fs";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import knexFactory, { type Knex } from "knex";
import ClientPgLite from "knex-pglite";
import pg from "pg";
import { lockDataDir } from "./data-dir-lock.js";
import { migrationSource } from "./migration-source.js";
import { pgliteStartParams } from "./pglite-protocol.js";
import { startPgliteThread } from "./pglite-thread.js";

export type Db = Knex | Knex.Transaction;

// bigint and numeric come back as JS numbers: every count we read fits comfortably.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export interface DatabaseOptions {
  /** postgres://… or null for PGlite. */
  url: string | null;
  /** For PGlite: a directory, or "memory://" for a throwaway database. */
  dataDir: string;
  poolMax?: number;
  /** Where knex's own warnings go (connection errors during an outage); dropped when absent. */
  log?: (level: "warn" | "error", message: string) => void;
}

export function createDatabase(options: DatabaseOptions): Knex {
  const migrations = { migrationSource, tableName: "knex_migrations" };
  const forward = (level: "warn" | "error") => (message: unknown) => options.log?.(level, String(message));
  const log = { warn: forward("warn"), error: forward("error"), deprecate: forward("warn"), debug: () => {} };
  if (options.url) {
    return knexFactory({
      client: "pg",
      // A statement that runs 30 s is stuck (a half-open connection, a lock held by a crashed client): end it,
      // so the requests queued behind it (creates of one org, changes of one group) get an error, not a hang.
      connection: {
        connectionString: options.url,
        application_name: "roster",
        statement_timeout: 30_000,
        keepAlive: true,
      },
      pool: { min: 0, max: options.poolMax ?? 10, acquireTimeoutMillis: 10_000 },
      acquireConnectionTimeout: 10_000,
      migrations,
      log,
    });
  }
  const pglite = { migrations, log, client: ClientPgLite, dialect: "postgres" };
  if (options.dataDir.startsWith("memory://")) {
    // A throwaway database (tests): in this thread, with the same settings as the embedded server's.
    return knexFactory({
      ...pglite,
      connection: { pglite: new PGlite(options.dataDir, { startParams: pgliteStartParams() }) },
    } as Knex.Config);
  }
  // A data directory: one process at a time (data-dir-lock.ts), PGlite on its own thread (pglite-thread.ts).
  mkdirSync(options.dataDir, { recursive: true });
  const release = lockDataDir(path.resolve(options.dataDir));
  let thread;
  try {
    thread = startPgliteThread(path.resolve(options.dataDir));
  } catch (error) {
    release();
    throw error;
  }
  const close = thread.close.bind(thread);
  const connection = Object.assign(thread, {
    close: () => close().finally(release),
  });
  return knexFactory({ ...pglite, connection: { pglite: connection } } as Knex.Config);
}

export async function migrateToLatest(db: Knex): Promise<string[]> {
  const [, applied] = (await db.migrate.latest()) as [number, string[]];
  return applied;
}
