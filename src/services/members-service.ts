// Admin operations on members: list, read, reassign seat type or role, swap.
import { z } from "zod";
import { withTransaction } from "../db/transaction.js";
import { DomainError } from "../domain/errors.js";
import { ROLES, type Role, roleAtLeast } from "../domain/roles.js";
import { appendAudit } from "../repositories/audit-repository.js";
import {
  findMember,
  listMembers,
  type Member,
  type MemberFilter,
  memberGroupNames,
  updateMember,
} from "../repositories/members-repository.js";
import { type Actor, changeContext, loadOrg, type ServiceDeps } from "./context.js";
import { changeSeat, type SeatIntent, swapSeats } from "./seat-allocator.js";

export interface MemberView extends Member {
  groups: { id: string; displayName: string }[];
}

export async function getMember(deps: ServiceDeps, orgId: string, memberId: string): Promise<MemberView> {
  const member = await findMember(deps.db, orgId, memberId);
  if (!member) throw new DomainError("not_found", "member not found");
  return { ...member, groups: await memberGroupNames(deps.db, orgId, member.id) };
}

export async function listOrgMembers(
  deps: ServiceDeps,
  orgId: string,
  filter: MemberFilter,
  after: string | null,
  limit: number,
): Promise<{ items: Member[]; next: string | null }> {
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
export type MemberPatchInput = z.infer<typeof memberPatchInput>;

function seatIntent(seatType: string): SeatIntent {
  if (seatType === "auto") return { kind: "auto" };
  return { kind: "manual", seatType: seatType === "unassigned" ? null : seatType };
}

export async function patchMember(
  deps: ServiceDeps,
  orgId: string,
  memberId: string,
  input: MemberPatchInput,
  actor: Actor & { role: Role },
): Promise<MemberView> {
  if (input.role !== undefined && !roleAtLeast(actor.role, "owner")) {
    throw new DomainError("forbidden", "changing roles needs the owner role or higher", { requiredRole: "owner" });
  }
  await withTransaction(deps.db, async (trx) => {
    const org = await loadOrg(deps, trx, orgId);
    const ctx = changeContext(deps, org, actor);
    if (input.role !== undefined) {
      const member = await findMember(trx, orgId, memberId, { forUpdate: true });
      if (!member) throw new DomainError("not_found", "member not found");
      if (member.role === "primary_owner" && input.role !== "primary_owner") {
        throw new DomainError(
          "primary_owner_protected",
          "the primary owner's role can only change through an ownership transfer",
        );
      }
      if (input.role === "primary_owner" && member.role !== "primary_owner") {
        throw new DomainError(
          "invalid_request",
          "there is one primary owner; make someone primary owner by an ownership transfer",
        );
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
    if (input.seatType !== undefined) await changeSeat(trx, ctx, memberId, seatIntent(input.seatType), deps.now());
  });
  return getMember(deps, orgId, memberId);
}

export async function swapMembers(
  deps: ServiceDeps,
  orgId: string,
  a: string,
  b: string,
  actor: Actor,
): Promise<[MemberView, MemberView]> {
  await withTransaction(deps.db, async (trx) => {
    const org = await loadOrg(deps, trx, orgId);
    await swapSeats(trx, changeContext(deps, org, actor), a, b);
  });
  return [await getMember(deps, orgId, a), await getMember(deps, orgId, b)];
}
