/** "?" placeholders (knex's style) to "$1, $2, …" (PostgreSQL's). The SQL given here has no literal "?". */
function positional(sql) {
    let n = 0;
    return sql.replace(/\?/g, () => `$${++n}`);
}
const nativeText = new Map();
const statementNames = new Map();
/**
 * `prepare`: keep the statement prepared on each pooled connection (planned once per connection, not on
 * every call: planning cost PostgreSQL more CPU than running the lookup). Only for statements that name
 * their result columns, so a column added by a later migration cannot invalidate the prepared result type.
 */
export async function hotQuery(db, sql, bindings, options = {}) {
    const client = db.client;
    if (client.config.client !== "pg" || db.isTransaction) {
        return (await db.raw(sql, bindings)).rows;
    }
    let text = nativeText.get(sql);
    if (!text) {
        text = positional(sql);
        if (nativeText.size < 1_000)
            nativeText.set(sql, text);
    }
    let name;
    if (options.prepare) {
        name = statementNames.get(sql);
        if (!name && statementNames.size < 1_000) {
            name = `roster_${statementNames.size + 1}`;
            statementNames.set(sql, name);
        }
    }
    const connection = await client.acquireConnection();
    try {
        return (await connection.query({ text, values: bindings, ...(name ? { name } : {}) })).rows;
    }
    finally {
        await client.releaseConnection(connection);
    }
}
//# sourceMappingURL=hot-query.js.map