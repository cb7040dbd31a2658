// The two statements every IdP sends all day (create a user, look one up) run here: straight on a pooled
// pg connection, skipping knex's builder and runner, which cost more CPU than the statement on these paths.
// PGlite, and any statement inside a transaction, go through knex as usual.
import type { Knex } from "knex";

interface PgConnection {
  query(config: { text: string; values: unknown[]; name?: string }): Promise<{ rows: unknown[] }>;
}
interface KnexPgClient {
  config: { client?: unknown };
  acquireConnection(): Promise<PgConnection>;
  releaseConnection(connection: PgConnection): Promise<unknown>;
}

/** "?" placeholders (knex's style) to "$1, $2, …" (PostgreSQL's). The SQL given here has no literal "?". */
function positional(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

const nativeText = new Map<string, string>();
const statementNames = new Map<string, string>();

/**
 * `prepare`: keep the statement prepared on each pooled connection (planned once per connection, not on
 * every call: planning cost PostgreSQL more CPU than running the lookup). Only for statements that name
 * their result columns, so a column added by a later migration cannot invalidate the prepared result type.
 */
export async function hotQuery<Row>(
  db: Knex | Knex.Transaction,
  sql: string,
  bindings: unknown[],
  options: { prepare?: boolean } = {},
): Promise<Row[]> {
  const client = db.client as unknown as KnexPgClient;
  if (client.config.client !== "pg" || (db as Knex.Transaction).isTransaction) {
    return ((await db.raw(sql, bindings as never[])) as { rows: Row[] }).rows;
  }
  let text = nativeText.get(sql);
  if (!text) {
    text = positional(sql);
    if (nativeText.size < 1_000) nativeText.set(sql, text);
  }
  let name: string | undefined;
  if (options.prepare) {
    name = statementNames.get(sql);
    if (!name && statementNames.size < 1_000) {
      name = `roster_${statementNames.size + 1}`;
      statementNames.set(sql, name);
    }
  }
  const connection = await client.acquireConnection();
  try {
    return (await connection.query({ text, values: bindings, ...(name ? { name } : {}) })).rows as Row[];
  } finally {
    await client.releaseConnection(connection);
  }
}
