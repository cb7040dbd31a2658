// Admin operations on members: list, read, reassign seat type or role, swap.
import { z } from "zod";
import { withTransaction } from "../db/transaction.js";
import { DomainError } from "../domain/errors.js";
import { ROLES, roleAtLeast } from "../domain/roles.js";
import { appendAudit } from "../repositories/audit-repository.js";
import { findMember, listMembers, memberGroupNames, updateMember, } from "../repositories/members-repository.js";
import { changeContext, loadOrg } from "./context.js";
import { changeSeat, swapSeats } from "./seat-allocator.js";
export async function getMember(deps, orgId, memberId) {
    const member = await findMember(deps.db, orgId, memberId);
    if (!member)
        throw new DomainError("not_found", "member not found");
    return { ...member, groups: await memberGroupNames(deps.db, orgId, member.id) };
}
export async function listOrgMembers(deps, orgId, filter, after, limit) {
    await loadOrg(deps, deps.db, orgId);
    // One row more than asked tells whether another page exists.
    const rows = await listMembers(deps.db, orgId, filter, after, limit + 1);
    const items = rows.slice(0, limit);
    return { items, next: rows.length > limit ? items[items.length - 1].id : null };
}
export const memberPatchInput = z
    .object({
    seatType: z.string().min(1).max(40).optional(),
    role: z.enum(ROLES).optional(),
})
    .strict()
    .refine((b) => b.seatType !== undefined || b.role !== undefined, "give seatType and/or role");
function seatIntent(seatType) {
    if (seatType === "auto")
        return { kind: "auto" };
    return { kind: "manual", seatType: seatType === "unassigned" ? null : seatType };
}
export async function patchMember(deps, orgId, memberId, input, actor) {
    if (input.role !== undefined && !roleAtLeast(actor.role, "owner")) {
        throw new DomainError("forbidden", "changing roles needs the owner role or higher", { requiredRole: "owner" });
    }
    await withTransaction(deps.db, async (trx) => {
        const org = await loadOrg(deps, trx, orgId);
        const ctx = changeContext(deps, org, actor);
        if (input.role !== undefined) {
            const member = await findMember(trx, orgId, memberId, { forUpdate: true });
            if (!member)
                throw new DomainError("not_found", "member not found");
            if (member.role === "primary_owner" && input.role !== "primary_owner") {
                throw new DomainError("primary_owner_protected", "the primary owner's role can only change through an ownership transfer");
            }
            if (input.role === "primary_owner" && member.role !== "primary_owner") {
                throw new DomainError("invalid_request", "there is one primary owner; make someone primary owner by an ownership transfer");
            }
            if (input.role !== member.role) {
                await updateMember(trx, orgId, memberId, { role: input.role, roleSource: "manual" });
                await appendAudit(trx, orgId, {
                    actor: actor.actor,
                    action: "member.role_changed",
                    memberId,
                    before: { role: member.role },
                    after: { role: input.role },
                    reason: "manual",
                    requestId: actor.requestId,
                });
            }
        }
        if (input.seatType !== undefined)
            await changeSeat(trx, ctx, memberId, seatIntent(input.seatType), deps.now());
    });
    return getMember(deps, orgId, memberId);
}
export async function swapMembers(deps, orgId, a, b, actor) {
    await withTransaction(deps.db, async (trx) => {
        const org = await loadOrg(deps, trx, orgId);
        await swapSeats(trx, changeContext(deps, org, actor), a, b);
    });
    return [await getMember(deps, orgId, a), await getMember(deps, orgId, b)];
}
//# sourceMappingURL=members-service.js.map