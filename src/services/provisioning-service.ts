// Creating and updating members from an identity source (SCIM, JIT sign-in, operator tools), always
// through the seat allocator in the same transaction.
import { randomUUID } from "node:crypto";
import { withTransaction } from "../db/transaction.js";
import { DomainError } from "../domain/errors.js";
import { appendAudit } from "../repositories/audit-repository.js";
import { findMemberByUserName, insertMember, type Member } from "../repositories/members-repository.js";
import { type Actor, changeContext, loadOrg, type ServiceDeps } from "./context.js";
import { changeSeat } from "./seat-allocator.js";

export interface ProvisionInput {
  userName: string;
  email?: string | null;
  externalId?: string | null;
  displayName?: string | null;
  givenName?: string | null;
  familyName?: string | null;
  /** Group values from a SAML assertion (SCIM groups are stored as group memberships instead). */
  idpGroups?: string[];
  source: "scim" | "jit" | "operator" | "admin";
}

/** Creates a member and gives them the seat the rules say. A userName that exists already is a conflict. */
export async function provisionMember(deps: ServiceDeps, orgId: string, input: ProvisionInput, actor: Actor): Promise<Member> {
  return withTransaction(deps.db, async (trx) => {
    const org = await loadOrg(deps, trx, orgId);
    if (await findMemberByUserName(trx, orgId, input.userName)) {
      throw new DomainError("uniqueness", "a member with this userName already exists");
    }
    const created = await insertMember(trx, orgId, {
      id: randomUUID(),
      userName: input.userName,
      email: input.email ?? null,
      externalId: input.externalId ?? null,
      displayName: input.displayName ?? null,
      givenName: input.givenName ?? null,
      familyName: input.familyName ?? null,
      idpGroups: input.idpGroups ?? [],
      seatReason: "new",
      source: input.source,
    });
    await appendAudit(trx, orgId, { actor: actor.actor, action: "member.created", memberId: created.id, after: { userName: created.userName, source: created.source }, requestId: actor.requestId });
    const change = await changeSeat(trx, { ...changeContext(deps, org, actor), newMemberId: created.id }, created.id, { kind: "reconcile" }, deps.now(), created);
    return change.member;
  });
}
