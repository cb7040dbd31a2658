function fromRow(r) {
    return {
        orgId: r.org_id,
        idpEntityId: r.idp_entity_id,
        ssoUrl: r.sso_url,
        certificates: r.certificates,
        attributeProfile: r.attribute_profile,
        allowIdpInitiated: r.allow_idp_initiated,
        updatedAt: r.updated_at,
    };
}
export async function findSamlConnection(db, orgId) {
    const row = await db("saml_connections").where({ org_id: orgId }).first();
    return row ? fromRow(row) : null;
}
export async function upsertSamlConnection(db, orgId, c) {
    const values = {
        org_id: orgId,
        idp_entity_id: c.idpEntityId,
        sso_url: c.ssoUrl,
        certificates: c.certificates,
        attribute_profile: c.attributeProfile,
        allow_idp_initiated: c.allowIdpInitiated,
        updated_at: db.fn.now(),
    };
    const [row] = await db("saml_connections").insert(values).onConflict("org_id").merge().returning("*");
    return fromRow(row);
}
export async function saveRequestId(db, orgId, requestId) {
    await db("saml_requests")
        .insert({ org_id: orgId, request_id: requestId })
        .onConflict(["org_id", "request_id"])
        .ignore();
}
/** The request's creation time if it is still pending and younger than maxAgeMs. */
export async function findRequestId(db, orgId, requestId, maxAgeMs, now) {
    const row = await db("saml_requests")
        .where({ org_id: orgId, request_id: requestId })
        .where("created_at", ">", new Date(now.getTime() - maxAgeMs))
        .first();
    return row ? row.created_at : null;
}
export async function removeRequestId(db, orgId, requestId) {
    return (await db("saml_requests").where({ org_id: orgId, request_id: requestId }).delete()) > 0;
}
/**
 * Records an assertion as used. False when it was used before: the primary key makes the check and the
 * record one atomic step, so two processes receiving the same assertion cannot both accept it.
 */
export async function markAssertionUsed(db, orgId, assertionId, expiresAt) {
    const rows = await db("saml_used_assertions")
        .insert({ org_id: orgId, assertion_id: assertionId, expires_at: expiresAt })
        .onConflict(["org_id", "assertion_id"])
        .ignore()
        .returning("assertion_id");
    return rows.length === 1;
}
/** Housekeeping: forget used assertions past their validity and requests never answered. */
export async function pruneSamlStores(db, now, requestMaxAgeMs) {
    await db("saml_used_assertions").where("expires_at", "<", now).delete();
    await db("saml_requests")
        .where("created_at", "<", new Date(now.getTime() - requestMaxAgeMs))
        .delete();
}
//# sourceMappingURL=saml-repository.js.map