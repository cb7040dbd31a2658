// Issuing, checking and revoking bearer tokens and one-time sign-in links.
import { randomUUID } from "node:crypto";
import { DomainError } from "../domain/errors.js";
import { appendAudit } from "../repositories/audit-repository.js";
import { consumeToken, findUsableToken, insertToken, isTokenStillUsable, listTokens, revokeMemberTokens, revokeToken, touchToken, } from "../repositories/tokens-repository.js";
import { withTransaction } from "../db/transaction.js";
import { findPrimaryOwner } from "../repositories/members-repository.js";
import { loadOrg } from "./context.js";
import { generateToken, hashToken, tokenHint } from "./secrets.js";
const PREFIX = { scim: "rst_scim", admin: "rst_admin", sign_in: "rst_signin" };
const SIGN_IN_LINK_TTL_MS = 24 * 60 * 60 * 1000;
export async function issueToken(deps, trx, orgId, kind, options, actor) {
    const token = generateToken(PREFIX[kind]);
    const expiresAt = kind === "sign_in" ? new Date(deps.now().getTime() + SIGN_IN_LINK_TTL_MS) : null;
    const record = await insertToken(trx, orgId, {
        id: randomUUID(),
        kind,
        memberId: options.memberId ?? null,
        name: options.name ?? null,
        tokenHash: hashToken(token),
        hint: tokenHint(token),
        expiresAt,
    });
    if (kind !== "sign_in") {
        await appendAudit(trx, orgId, {
            actor: actor.actor,
            action: `token.${kind}.created`,
            memberId: record.memberId,
            after: { id: record.id, name: record.name, hint: record.hint },
            requestId: actor.requestId,
        });
    }
    return { token, record };
}
// When this process last recorded each token's use: last_used_at is kept to the minute, so a busy SCIM
// client costs one write a minute per process instead of one per request.
const lastTouched = new Map();
const TOUCH_EVERY_MS = 60_000;
async function recordUse(deps, orgId, tokenId, now) {
    if (now.getTime() - (lastTouched.get(tokenId) ?? 0) < TOUCH_EVERY_MS)
        return;
    if (lastTouched.size > 10_000)
        lastTouched.clear();
    lastTouched.set(tokenId, now.getTime());
    await touchToken(deps.db, orgId, tokenId, now);
}
/** Checks a presented token. Every process reads the same table, so a revocation holds everywhere at once. */
export async function authenticateToken(deps, kind, token) {
    if (!token.startsWith(`${PREFIX[kind]}_`) || token.length > 200)
        return null;
    const now = deps.now();
    const record = await findUsableToken(deps.db, hashToken(token), kind, now);
    if (record)
        await recordUse(deps, record.orgId, record.id, now);
    return record;
}
/** Token digest -> its id and org, per router (so two apps in one test process keep separate memories). */
export class KnownTokens {
    byDigest = new Map();
    get(digest) {
        return this.byDigest.get(digest);
    }
    remember(digest, tokenId, orgId) {
        if (this.byDigest.size >= 10_000)
            this.byDigest.clear();
        this.byDigest.set(digest, { tokenId, orgId });
    }
    forget(digest) {
        this.byDigest.delete(digest);
    }
}
/** Who a SCIM token says the caller is; null for a token that is unknown, revoked or not a SCIM token. */
export async function identifyScimToken(deps, known, token) {
    if (!token.startsWith(`${PREFIX.scim}_`) || token.length > 200)
        return null;
    const digest = hashToken(token);
    const now = deps.now();
    const remembered = known.get(digest);
    if (remembered) {
        await recordUse(deps, remembered.orgId, remembered.tokenId, now);
        return { ...remembered, digest, confirmed: false };
    }
    const record = await findUsableToken(deps.db, digest, "scim", now);
    if (!record)
        return null;
    known.remember(digest, record.id, record.orgId);
    await recordUse(deps, record.orgId, record.id, now);
    return { tokenId: record.id, orgId: record.orgId, digest, confirmed: true };
}
/** Refuses (401) a token revoked since it was remembered; a no-op once this request has confirmed it. */
export async function confirmToken(deps, check) {
    if (!check || check.confirmed)
        return;
    if (!(await isTokenStillUsable(deps.db, check.tokenId)))
        throw tokenRefused();
    check.confirmed = true;
}
/** The error for a token found revoked; the router forgets the digest when it answers it. */
export function tokenRefused() {
    return new DomainError("unauthorized", "a valid SCIM bearer token is required");
}
export async function redeemSignInLink(deps, token) {
    if (!token.startsWith(`${PREFIX.sign_in}_`) || token.length > 200)
        return null;
    return consumeToken(deps.db, hashToken(token), "sign_in", deps.now());
}
export function listOrgTokens(deps, orgId, kind) {
    return listTokens(deps.db, orgId, kind);
}
export async function revokeOrgToken(deps, orgId, kind, id, actor) {
    return deps.db.transaction(async (trx) => {
        const existing = (await listTokens(trx, orgId, kind)).find((t) => t.id === id);
        if (!existing)
            throw new DomainError("not_found", "token not found");
        const revoked = await revokeToken(trx, orgId, id, deps.now());
        if (!revoked)
            return existing; // already revoked: revoking again changes nothing
        await appendAudit(trx, orgId, {
            actor: actor.actor,
            action: `token.${kind}.revoked`,
            memberId: revoked.memberId,
            before: { id, hint: revoked.hint },
            requestId: actor.requestId,
        });
        return revoked;
    });
}
/**
 * A fresh one-time sign-in link for the org's primary owner (the operator's way back in when the first link
 * was used or lost). Earlier unused links of theirs stop working, so only the newest link is live.
 */
export async function reissueOwnerSignInLink(deps, orgId, actor) {
    return withTransaction(deps.db, async (trx) => {
        await loadOrg(deps, trx, orgId);
        const owner = await findPrimaryOwner(trx, orgId);
        if (!owner)
            throw new DomainError("not_found", "this organization has no primary owner");
        if (!owner.active)
            throw new DomainError("conflict", "the primary owner is deactivated");
        const revoked = await revokeMemberTokens(trx, orgId, owner.id, "sign_in", deps.now());
        const issued = await issueToken(deps, trx, orgId, "sign_in", { memberId: owner.id }, actor);
        await appendAudit(trx, orgId, {
            actor: actor.actor,
            action: "signin_link.issued",
            memberId: owner.id,
            after: { expiresAt: issued.record.expiresAt, earlierLinksRevoked: revoked },
            requestId: actor.requestId,
        });
        return issued;
    });
}
//# sourceMappingURL=tokens-service.js.map