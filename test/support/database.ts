// A fresh, migrated database for each test file: a new PostgreSQL database on TEST_DATABASE_URL's server
// when that is set (CI), else an in-memory PGlite. Real PostgreSQL either way; nothing is mocked.
import { randomBytes } from "node:crypto";
import knexFactory, { type Knex } from "knex";
import { createDatabase, migrateToLatest } from "../../src/db/database.js";

export interface TestDatabase {
  db: Knex;
  /** The new database's URL on a PostgreSQL server; null on PGlite. */
  url: string | null;
  destroy(): Promise<void>;
}

export const onPostgres = Boolean(process.env.TEST_DATABASE_URL);

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function createTestDatabase(options: { poolMax?: number } = {}): Promise<TestDatabase> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) {
    const db = createDatabase({ url: null, dataDir: "memory://" });
    await migrateToLatest(db);
    return { db, url: null, destroy: () => db.destroy() };
  }
  const name = `roster_test_${randomBytes(6).toString("hex")}`;
  const admin = knexFactory({ client: "pg", connection: serverUrl, pool: { min: 0, max: 1 } });
  await admin.raw(`create database ${name}`);
  const url = withDatabase(serverUrl, name);
  const db = createDatabase({ url, dataDir: "", poolMax: options.poolMax ?? 10 });
  await migrateToLatest(db);
  return {
    db,
    url,
    async destroy() {
      await db.destroy();
      await admin.raw(`drop database if exists ${name} with (force)`);
      await admin.destroy();
    },
  };
}
