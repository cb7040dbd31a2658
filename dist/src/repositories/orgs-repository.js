export const DEFAULT_SETTINGS = { mappedTypeExhausted: "unassigned", manualHoldMinutes: 15 };
function fromRow(r) {
    return {
        id: r.id,
        name: r.name,
        plan: r.plan,
        settings: { ...DEFAULT_SETTINGS, ...r.settings },
        termStart: r.term_start,
        termEnd: r.term_end,
        createdAt: r.created_at,
    };
}
export async function insertOrg(db, org) {
    const [row] = await db("organizations")
        .insert({
        id: org.id,
        name: org.name,
        plan: org.plan,
        settings: JSON.stringify(org.settings),
        term_start: org.termStart,
        term_end: org.termEnd,
    })
        .returning("*");
    return fromRow(row);
}
export async function findOrg(db, orgId, options = {}) {
    const query = db("organizations").where({ id: orgId }).first();
    if (options.forUpdate)
        query.forUpdate();
    const row = await query;
    return row ? fromRow(row) : null;
}
export async function updateOrgSettings(db, orgId, settings) {
    await db("organizations")
        .where({ id: orgId })
        .update({ settings: JSON.stringify(settings) });
}
export async function countOrgs(db) {
    const row = await db("organizations").count({ count: "*" }).first();
    return Number(row?.count ?? 0);
}
export async function getServerSetting(db, key) {
    const row = await db("server_settings").where({ key }).first();
    return row ? row.value : null;
}
/** Insert-if-absent, then read: every process ends up with the same value. */
export async function ensureServerSetting(db, key, make) {
    await db("server_settings").insert({ key, value: make() }).onConflict("key").ignore();
    return (await getServerSetting(db, key));
}
//# sourceMappingURL=orgs-repository.js.map