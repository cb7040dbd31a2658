// Ownership transfer (DOMAIN §2): only the primary owner hands it over, to an active member, who becomes the
// primary owner while the old one becomes an owner; exactly one primary owner before and after.
import { z } from "zod";
import { withTransaction } from "../db/transaction.js";
import { DomainError } from "../domain/errors.js";
import { appendAuditWithEvent } from "../repositories/audit-repository.js";
import { findMember, isUuid, updateMember } from "../repositories/members-repository.js";
import { loadOrg } from "./context.js";
export const ownershipTransferInput = z.object({ memberId: z.string().refine(isUuid, "must be a member id") }).strict();
async function recordRoleChange(trx, orgId, actor, member, role) {
    await appendAuditWithEvent(trx, orgId, {
        actor: actor.actor,
        action: "member.role_changed",
        memberId: member.id,
        before: { role: member.role },
        after: { role },
        reason: "ownership transfer",
        requestId: actor.requestId,
    }, {
        topic: "member.role_changed",
        payload: {
            orgId,
            memberId: member.id,
            before: { role: member.role },
            after: { role },
            reason: "ownership_transfer",
        },
    });
}
export async function transferOwnership(deps, orgId, input, actor) {
    if (actor.role !== "primary_owner") {
        throw new DomainError("forbidden", "only the primary owner can transfer ownership", {
            requiredRole: "primary_owner",
        });
    }
    if (input.memberId === actor.memberId) {
        throw new DomainError("invalid_request", "you are the primary owner already; choose another member");
    }
    return withTransaction(deps.db, async (trx) => {
        await loadOrg(deps, trx, orgId);
        // Lock both in id order, so two transfers at once cannot deadlock.
        const locked = new Map();
        for (const id of [actor.memberId, input.memberId].sort()) {
            locked.set(id, await findMember(trx, orgId, id, { forUpdate: true }));
        }
        const from = locked.get(actor.memberId);
        const to = locked.get(input.memberId);
        // Checked again under the lock: a transfer that won a race has already made the caller an owner.
        if (!from || from.role !== "primary_owner") {
            throw new DomainError("forbidden", "only the primary owner can transfer ownership", {
                requiredRole: "primary_owner",
            });
        }
        if (!to)
            throw new DomainError("not_found", "member not found");
        if (!to.active)
            throw new DomainError("conflict", "ownership can only go to an active member");
        // The old owner steps down first: the database allows one primary owner per org.
        const newFrom = await updateMember(trx, orgId, from.id, { role: "owner", roleSource: "manual" });
        const newTo = await updateMember(trx, orgId, to.id, { role: "primary_owner", roleSource: "manual" });
        await recordRoleChange(trx, orgId, actor, from, "owner");
        await recordRoleChange(trx, orgId, actor, to, "primary_owner");
        await appendAuditWithEvent(trx, orgId, {
            actor: actor.actor,
            action: "ownership.transferred",
            memberId: to.id,
            before: { primaryOwner: from.id },
            after: { primaryOwner: to.id },
            requestId: actor.requestId,
        }, { topic: "ownership.transferred", payload: { orgId, from: from.id, to: to.id } });
        return { from: newFrom, to: newTo };
    });
}
//# sourceMappingURL=ownership-service.js.map