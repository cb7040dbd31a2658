// DOMAIN §10 and STYLE "Data": the schema stays distributable by org (Citus-style). Every tenant table has
// org_id, and its primary key and every unique constraint or index lead with it, so each row and each
// uniqueness check lives on one org's shard. Read from the migrated database's catalog, so a new table or
// index that breaks the rule fails here.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

let tdb: TestDatabase;
beforeAll(async () => {
  tdb = await createTestDatabase();
});
afterAll(async () => tdb?.destroy());

// Not tenant data: the server's own settings, the tenants themselves, and knex's bookkeeping.
const GLOBAL_TABLES = new Set(["server_settings", "organizations", "knex_migrations", "knex_migrations_lock"]);
// The one deliberate exception: a bearer token or a claim link arrives before anyone knows its org, so its
// hash is looked up across orgs. Distributed, these become a small reference table from hash to org.
const GLOBAL_LOOKUPS = new Set(["api_tokens__token_hash__unique", "invitations__token_hash__unique"]);

describe("every tenant table is keyed by org_id first", () => {
  it("has org_id, and every primary key and unique index starts with it", async () => {
    const tables = (
      await tdb.db.raw(`select tablename from pg_tables where schemaname = current_schema() order by tablename`)
    ).rows.map((r: { tablename: string }) => r.tablename) as string[];
    const tenantTables = tables.filter((t) => !GLOBAL_TABLES.has(t));
    expect(tenantTables.length).toBeGreaterThan(8);

    const problems: string[] = [];
    for (const table of tenantTables) {
      const columns = (
        await tdb.db.raw(
          `select column_name from information_schema.columns where table_schema = current_schema() and table_name = ?`,
          [table],
        )
      ).rows.map((r: { column_name: string }) => r.column_name);
      if (!columns.includes("org_id")) problems.push(`${table}: no org_id column`);
      const uniques = (
        await tdb.db.raw(
          `select i.relname as name, ix.indisprimary as primary,
                  (select a.attname from pg_attribute a where a.attrelid = t.oid and a.attnum = ix.indkey[0]) as first
             from pg_index ix
             join pg_class t on t.oid = ix.indrelid
             join pg_class i on i.oid = ix.indexrelid
            where t.relname = ? and ix.indisunique`,
          [table],
        )
      ).rows as { name: string; primary: boolean; first: string | null }[];
      if (!uniques.some((u) => u.primary)) problems.push(`${table}: no primary key`);
      for (const u of uniques)
        if (u.first !== "org_id" && !GLOBAL_LOOKUPS.has(u.name))
          problems.push(`${table}: ${u.name} starts with ${u.first}`);
    }
    expect(problems).toEqual([]);
  });
});
