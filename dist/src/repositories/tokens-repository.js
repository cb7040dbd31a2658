function fromRow(r) {
    return {
        orgId: r.org_id,
        id: r.id,
        kind: r.kind,
        memberId: r.member_id ?? null,
        name: r.name ?? null,
        hint: r.hint,
        createdAt: r.created_at,
        expiresAt: r.expires_at ?? null,
        lastUsedAt: r.last_used_at ?? null,
        revokedAt: r.revoked_at ?? null,
    };
}
export async function insertToken(db, orgId, token) {
    const [row] = await db("api_tokens")
        .insert({
        org_id: orgId,
        id: token.id,
        kind: token.kind,
        member_id: token.memberId,
        name: token.name,
        token_hash: token.tokenHash,
        hint: token.hint,
        expires_at: token.expiresAt,
    })
        .returning("*");
    return fromRow(row);
}
/** A usable token: not revoked, not expired. Looked up by digest on every request (unique index). */
export async function findUsableToken(db, tokenHash, kind, now) {
    const row = await db("api_tokens")
        .where({ token_hash: tokenHash, kind })
        .whereNull("revoked_at")
        .where((w) => w.whereNull("expires_at").orWhere("expires_at", ">", now))
        .first();
    return row ? fromRow(row) : null;
}
/** Records use at most once a minute per token, so a busy SCIM client does not write on every request. */
export async function touchToken(db, orgId, id, now) {
    await db("api_tokens")
        .where({ org_id: orgId, id })
        .whereNull("revoked_at")
        .where((w) => w.whereNull("last_used_at").orWhere("last_used_at", "<", new Date(now.getTime() - 60_000)))
        .update({ last_used_at: now });
}
/** Single use: only the first caller gets the row back. */
export async function consumeToken(db, tokenHash, kind, now) {
    const [row] = await db("api_tokens")
        .where({ token_hash: tokenHash, kind })
        .whereNull("revoked_at")
        .where((w) => w.whereNull("expires_at").orWhere("expires_at", ">", now))
        .update({ revoked_at: now, last_used_at: now })
        .returning("*");
    return row ? fromRow(row) : null;
}
export async function listTokens(db, orgId, kind) {
    const rows = await db("api_tokens").where({ org_id: orgId, kind }).orderBy("created_at");
    return rows.map(fromRow);
}
export async function revokeToken(db, orgId, id, now) {
    const [row] = await db("api_tokens")
        .where({ org_id: orgId, id })
        .whereNull("revoked_at")
        .update({ revoked_at: now })
        .returning("*");
    return row ? fromRow(row) : null;
}
/**
 * The SQL condition "this token is still usable", for statements that check the caller's token in the same
 * round trip as their work (see services/tokens-service.ts, TokenCheck).
 */
export function tokenStillUsable(tokenId) {
    return {
        sql: "exists (select 1 from api_tokens where id = ? and revoked_at is null and (expires_at is null or expires_at > now()))",
        bindings: [tokenId],
    };
}
export async function isTokenStillUsable(db, tokenId) {
    const guard = tokenStillUsable(tokenId);
    const { rows } = (await db.raw(`select ${guard.sql} as ok`, guard.bindings));
    return rows[0]?.ok === true;
}
/** Revokes a member's unused tokens of one kind (e.g. earlier sign-in links when a fresh one is issued). */
export async function revokeMemberTokens(db, orgId, memberId, kind, now) {
    return db("api_tokens").where({ org_id: orgId, member_id: memberId, kind }).whereNull("revoked_at").update({
        revoked_at: now,
    });
}
//# sourceMappingURL=tokens-repository.js.map