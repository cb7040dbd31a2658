// knex over PostgreSQL: a server when DATABASE_URL is set, else embedded PGlite (real PostgreSQL compiled to
// WASM) in the data directory, so one set of migrations and queries serves both.
import { mkdirSync } from "node:fs";
import path from "node:path";
import knexFactory from "knex";
import ClientPgLite from "knex-pglite";
import pg from "pg";
import { migrationSource } from "./migration-source.js";
// bigint and numeric come back as JS numbers: every count we read fits comfortably.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
export function createDatabase(options) {
    const migrations = { migrationSource, tableName: "knex_migrations" };
    const forward = (level) => (message) => options.log?.(level, String(message));
    const log = { warn: forward("warn"), error: forward("error"), deprecate: forward("warn"), debug: () => { } };
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
    let connectionString = options.dataDir;
    if (!connectionString.startsWith("memory://")) {
        mkdirSync(options.dataDir, { recursive: true });
        connectionString = `file://${path.resolve(options.dataDir)}`;
    }
    return knexFactory({
        client: ClientPgLite,
        dialect: "postgres",
        connection: { connectionString },
        migrations,
        log,
    });
}
export async function migrateToLatest(db) {
    const [, applied] = (await db.migrate.latest());
    return applied;
}
//# sourceMappingURL=database.js.map