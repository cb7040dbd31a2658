// Creating and updating members from an identity source (SCIM, JIT sign-in, operator tools), always
// through the seat allocator in the same transaction.
import { randomUUID } from "node:crypto";
import { withTransaction } from "../db/transaction.js";
import { DomainError } from "../domain/errors.js";
import { appendAudit } from "../repositories/audit-repository.js";
import { findMemberByUserName, insertMember } from "../repositories/members-repository.js";
import { changeContext, loadOrg } from "./context.js";
import { changeSeat } from "./seat-allocator.js";
/**
 * Inserts a member and gives them the seat the rules say, inside the caller's transaction: the one step
 * every way of creating a member shares (JIT sign-in, operator tools). No uniqueness check: callers know
 * whether the person exists.
 */
export async function createMember(trx, ctx, input, now) {
    const email = input.email ?? null;
    const created = await insertMember(trx, ctx.org.id, {
        id: randomUUID(),
        userName: input.userName,
        email,
        emails: email ? [email.toLowerCase()] : [],
        externalId: input.externalId ?? null,
        displayName: input.displayName ?? null,
        givenName: input.givenName ?? null,
        familyName: input.familyName ?? null,
        idpGroups: input.idpGroups ?? [],
        seatReason: "new",
        source: input.source,
    });
    await appendAudit(trx, ctx.org.id, {
        actor: ctx.actor,
        action: "member.created",
        memberId: created.id,
        after: { source: created.source, groups: created.idpGroups },
        requestId: ctx.requestId,
    });
    // Just inserted: already locked and in no SCIM group, so the allocator need not read it again.
    return (await changeSeat(trx, { ...ctx, newMemberId: created.id }, created.id, { kind: "reconcile" }, now, created))
        .member;
}
/** Creates a member and gives them the seat the rules say. A userName that exists already is a conflict. */
export async function provisionMember(deps, orgId, input, actor) {
    return withTransaction(deps.db, async (trx) => {
        const org = await loadOrg(deps, trx, orgId);
        if (await findMemberByUserName(trx, orgId, input.userName)) {
            throw new DomainError("uniqueness", "a member with this userName already exists");
        }
        return createMember(trx, changeContext(deps, org, actor), input, deps.now());
    });
}
//# sourceMappingURL=provisioning-service.js.map