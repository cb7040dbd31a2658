import { withTransaction } from "../db/transaction.js";
import { DomainError } from "../domain/errors.js";
import { appendAudit } from "../repositories/audit-repository.js";
import { findMember, findMemberByEmail, findMemberByUserName, updateMember, } from "../repositories/members-repository.js";
import { changeContext, loadOrg } from "./context.js";
import { createMember } from "./provisioning-service.js";
import { changeSeat } from "./seat-allocator.js";
const JIT = "jit";
async function findPerson(trx, orgId, email) {
    return (await findMemberByUserName(trx, orgId, email)) ?? (await findMemberByEmail(trx, orgId, email));
}
async function signIn(deps, orgId, identity, requestId) {
    return withTransaction(deps.db, async (trx) => {
        const org = await loadOrg(deps, trx, orgId);
        const ctx = changeContext(deps, org, { actor: JIT, requestId });
        const existing = await findPerson(trx, orgId, identity.email);
        if (existing) {
            const member = (await findMember(trx, orgId, existing.id, { forUpdate: true }));
            if (!member.active)
                throw new DomainError("forbidden", "this account is deactivated");
            const names = member.scimManaged
                ? {}
                : { givenName: identity.givenName, familyName: identity.familyName, displayName: identity.displayName };
            const groupsChanged = JSON.stringify([...member.idpGroups].sort()) !== JSON.stringify([...identity.groups].sort());
            if (groupsChanged) {
                await appendAudit(trx, orgId, {
                    actor: JIT,
                    action: "member.groups_changed",
                    memberId: member.id,
                    before: { groups: member.idpGroups },
                    after: { groups: identity.groups },
                    requestId,
                });
            }
            await updateMember(trx, orgId, member.id, { ...names, idpGroups: identity.groups });
            return (await changeSeat(trx, ctx, member.id, { kind: "reconcile" }, deps.now())).member;
        }
        const { email, givenName, familyName, displayName, groups } = identity;
        return createMember(trx, ctx, { userName: email, email, givenName, familyName, displayName, idpGroups: groups, source: "jit" }, deps.now());
    });
}
export async function signInWithAssertion(deps, orgId, identity, requestId = null) {
    try {
        return await signIn(deps, orgId, identity, requestId);
    }
    catch (error) {
        // Two first sign-ins of one person at once: the loser of the insert race finds the winner's member.
        if (error.code === "23505")
            return signIn(deps, orgId, identity, requestId);
        throw error;
    }
}
//# sourceMappingURL=jit-service.js.map